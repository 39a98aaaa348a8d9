using System.Diagnostics;
using Reid.Data;
using Reid.Evaluation;
using Reid.Inference;
using Reid.TestSupport;

namespace Reid.Foundation.Tests.Evaluation;

/// <summary>The shared OSNet x0.25 (MSMT17) embeddings of holdout-v1's query and gallery, computed once per test class.</summary>
public sealed class HoldoutV1Embeddings
{
    public EmbeddedImages? Query { get; }
    public EmbeddedImages? Gallery { get; }

    public HoldoutV1Embeddings()
    {
        if (!SharedData.Available) return;
        var ds = DatasetLoader.Load(new DatasetSpec(DatasetKind.Market1501, SharedData.Market1501Train, SharedData.HoldoutV1));
        using var embedder = Embedder.Open(SharedData.OsnetMsmt17, EmbedderOptions.Default);
        Query = DatasetEmbedding.Run(ds.Query, embedder.Embed);
        Gallery = DatasetEmbedding.Run(ds.Gallery, embedder.Embed);
    }
}

/// <summary>
/// The figures that must always hold (docs/BENCHMARKS.md): shared OSNet x0.25 MSMT17 on holdout-v1, cosine,
/// no flip: 1,055 valid / 21 skipped queries, Rank-1 0.646, mAP 0.451; re-ranked 0.707 / 0.606 (± 0.005).
/// </summary>
public class HoldoutV1RegressionTests(HoldoutV1Embeddings e) : IClassFixture<HoldoutV1Embeddings>
{
    private DistanceMatrix Cosine(EmbeddedImages a, EmbeddedImages b) => DistanceMatrix.Compute(a.Embeddings, b.Embeddings, DistanceKind.Cosine);

    [SharedFact]
    public void PlainCosineGivesTheReferenceFigures()
    {
        var r = Evaluator.Evaluate(Cosine(e.Query!, e.Gallery!), e.Query!.Records, e.Gallery!.Records);
        Assert.Equal(1055, r.ValidQueries);
        Assert.Equal(21, r.SkippedQueries);
        Assert.InRange(r.Rank1, 0.641, 0.651);
        Assert.InRange(r.MeanAP, 0.446, 0.456);
        Assert.True(r.Rank5 >= r.Rank1 && r.Rank10 >= r.Rank5 && r.MeanInp <= r.MeanAP);
        var v = r.Verification!;
        Assert.InRange(v.Auc, 0.5, 1.0);
        Assert.True(v.OperatingPoints[0].Tar >= v.OperatingPoints[1].Tar && v.OperatingPoints[1].Tar >= v.OperatingPoints[2].Tar);
    }

    [SharedFact]
    public void ReRankingGivesTheReferenceFiguresInSeconds()
    {
        var clock = Stopwatch.StartNew();
        var reranked = ReRanker.Apply(Cosine(e.Query!, e.Gallery!), Cosine(e.Query!, e.Query!), Cosine(e.Gallery!, e.Gallery!));
        var seconds = clock.Elapsed.TotalSeconds;
        var r = Evaluator.Evaluate(reranked, e.Query!.Records, e.Gallery!.Records, new EvaluationOptions(Verification: false));
        Assert.Equal(1055, r.ValidQueries);
        Assert.InRange(r.Rank1, 0.702, 0.712);
        Assert.InRange(r.MeanAP, 0.601, 0.611);
        Assert.True(seconds < 60, $"re-ranking took {seconds:0.0} s");
    }
}
