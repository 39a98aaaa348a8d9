using Reid.Data;
using Reid.Evaluation;
using Reid.Inference;
using Reid.TestSupport;

namespace Reid.SpatialTemporal.Tests;

/// <summary>
/// The figures docs/BENCHMARKS.md records for the shared OSNet x0.25 MSMT17 on holdout-v1 with the
/// spatial-temporal model learned from the 501 training identities only, with the setting `reid st learn`
/// fitted by cross-validation on them (σ, λ0, γ0, λ1, γ1 below). Embeds query and gallery (4,294 crops); the travel times need no embeddings.
/// </summary>
public class HoldoutV1StTests
{
    // What `reid st learn` chose on holdout-v1's training identities (3 folds, seed 1); see docs/BENCHMARKS.md.
    private const double Sigma = 100, Gamma0 = 1, Lambda1 = 2, Gamma1 = 10;

    [SharedFact]
    public void Fusion_with_travel_times_lifts_osnet_msmt17_on_holdout_v1_to_the_recorded_figures()
    {
        var ds = DatasetLoader.Load(new DatasetSpec(DatasetKind.Market1501, SharedData.Market1501Train, SharedData.HoldoutV1));
        using var embedder = Embedder.Open(SharedData.OsnetMsmt17, EmbedderOptions.Default);
        var model = RecordSightings.Learn(ds.Train!, new SpatialTemporalOptions { SmoothingSeconds = Sigma }, new FusionParameters(1, Gamma0, Lambda1, Gamma1));
        Assert.Equal(501, model.Identities);
        var q = DatasetEmbedding.Run(ds.Query, embedder.Embed);
        var g = DatasetEmbedding.Run(ds.Gallery, embedder.Embed);
        var qg = DistanceMatrix.Compute(q.Embeddings, g.Embeddings, DistanceKind.Cosine);
        var options = new EvaluationOptions(Verification: false);

        var (fused, report) = SpatialTemporalRanking.Apply(model, qg, q.Records, g.Records);
        Assert.Empty(report.Warnings);
        var st = Evaluator.Evaluate(fused, q.Records, g.Records, options);
        Assert.Equal(1055, st.ValidQueries);
        Assert.InRange(st.Rank1, 0.9555 - 0.005, 0.9555 + 0.005);
        Assert.InRange(st.MeanAP, 0.7744 - 0.005, 0.7744 + 0.005);

        var qq = DistanceMatrix.Compute(q.Embeddings, q.Embeddings, DistanceKind.Cosine);
        var gg = DistanceMatrix.Compute(g.Embeddings, g.Embeddings, DistanceKind.Cosine);
        var (both, _) = SpatialTemporalRanking.Apply(model, qg, q.Records, g.Records, qq, gg, new ReRankingOptions());
        var rr = Evaluator.Evaluate(both, q.Records, g.Records, options);
        Assert.InRange(rr.Rank1, 0.9564 - 0.005, 0.9564 + 0.005);
        Assert.InRange(rr.MeanAP, 0.8925 - 0.005, 0.8925 + 0.005);
    }
}
