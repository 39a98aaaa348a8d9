using Reid.Data;
using Reid.Evaluation;
using Reid.Inference;
using Reid.TestSupport;

namespace Reid.SpatialTemporal.Tests;

/// <summary>
/// The figures docs/BENCHMARKS.md records for the shared OSNet x0.25 MSMT17 and the shipped default model on holdout-v1 with the
/// spatial-temporal model learned from the 501 training identities only, with the setting `reid st learn`
/// fitted by cross-validation on them (σ, λ0, γ0, λ1, γ1 below). Embeds query and gallery (4,294 crops); the travel times need no embeddings.
/// </summary>
public class HoldoutV1StTests
{
    // What `reid st learn` chose on holdout-v1's training identities for each model (3 folds, seed 1), and the
    // figures recorded in docs/BENCHMARKS.md: σ, γ0, λ1, γ1; then + ST Rank-1, mAP; then + ST + re-ranking Rank-1, mAP.
    public static TheoryData<string, double[], double[]> Models => new()
    {
        { "osnet-msmt17", [100, 1, 2, 10], [0.9555, 0.7744, 0.9564, 0.8925] },
        { "default", [400, 1, 5, 30], [0.9810, 0.9154, 0.9867, 0.9701] },
    };

    [SharedTheory]
    [MemberData(nameof(Models))]
    public void Fusion_with_travel_times_reaches_the_recorded_figures_on_holdout_v1(string which, double[] fit, double[] expected)
    {
        var path = which == "default" ? ProjectModels.ShippedModelPath! : SharedData.OsnetMsmt17;
        Assert.True(File.Exists(path), $"{path} is missing");
        var ds = DatasetLoader.Load(new DatasetSpec(DatasetKind.Market1501, SharedData.Market1501Train, SharedData.HoldoutV1));
        using var embedder = Embedder.Open(path, EmbedderOptions.Default);
        var model = RecordSightings.Learn(ds.Train!, new SpatialTemporalOptions { SmoothingSeconds = fit[0] }, new FusionParameters(1, fit[1], fit[2], fit[3]));
        Assert.Equal(501, model.Identities);
        var q = DatasetEmbedding.Run(ds.Query, embedder.Embed);
        var g = DatasetEmbedding.Run(ds.Gallery, embedder.Embed);
        var qg = DistanceMatrix.Compute(q.Embeddings, g.Embeddings, DistanceKind.Cosine);
        var options = new EvaluationOptions(Verification: false);

        var (fused, report) = SpatialTemporalRanking.Apply(model, qg, q.Records, g.Records);
        Assert.Empty(report.Warnings);
        var st = Evaluator.Evaluate(fused, q.Records, g.Records, options);
        Assert.Equal(1055, st.ValidQueries);
        Assert.InRange(st.Rank1, expected[0] - 0.005, expected[0] + 0.005);
        Assert.InRange(st.MeanAP, expected[1] - 0.005, expected[1] + 0.005);

        var qq = DistanceMatrix.Compute(q.Embeddings, q.Embeddings, DistanceKind.Cosine);
        var gg = DistanceMatrix.Compute(g.Embeddings, g.Embeddings, DistanceKind.Cosine);
        var (both, _) = SpatialTemporalRanking.Apply(model, qg, q.Records, g.Records, qq, gg, new ReRankingOptions());
        var rr = Evaluator.Evaluate(both, q.Records, g.Records, options);
        Assert.InRange(rr.Rank1, expected[2] - 0.005, expected[2] + 0.005);
        Assert.InRange(rr.MeanAP, expected[3] - 0.005, expected[3] + 0.005);
    }
}
