using Reid.Data;
using Reid.Evaluation;

namespace Reid.Foundation.Tests.Evaluation;

public class EvaluatorTests
{
    private static ImageRecord R(int id, string? cam, string name = "x.jpg") => new(name, id, cam);

    private static DistanceMatrix M(params float[][] rows) =>
        new(rows.Length, rows[0].Length, rows.SelectMany(r => r).ToArray(), DistanceKind.Derived);

    [Fact]
    public void HandComputedQueryWithJunkDistractorAndSameCameraIgnores()
    {
        var query = new[] { R(1, "1") };
        var gallery = new[]
        {
            R(1, "2"),   // 0.30 positive
            R(2, "2"),   // 0.10 negative
            R(1, "1"),   // 0.05 same id, same camera: ignored
            R(-1, "3"),  // 0.00 junk: ignored
            R(1, "3"),   // 0.50 positive
            R(0, "2"),   // 0.20 distractor: negative
        };
        var r = Evaluator.Evaluate(M([0.3f, 0.1f, 0.05f, 0f, 0.5f, 0.2f]), query, gallery);
        // ranked without ignores: neg 0.1, distractor 0.2, pos 0.3 (rank 3), pos 0.5 (rank 4)
        Assert.Equal(1, r.ValidQueries);
        Assert.Equal(0, r.SkippedQueries);
        Assert.Equal(0, r.Rank1);
        Assert.Equal(0, r.Cmc.At(2));
        Assert.Equal(1, r.Cmc.At(3));
        Assert.Equal(1, r.Rank10);
        Assert.Equal((1 / 3.0 + 2 / 4.0) / 2, r.MeanAP, 12);
        Assert.Equal(2 / 4.0, r.MeanInp, 12);
        Assert.Equal([1, 5, 0, 4], r.Queries[0].Ranking.Matches.Select(m => m.GalleryIndex));
        Assert.Equal(50, r.Cmc.MaxRank);
    }

    [Fact]
    public void QueriesWithoutAValidMatchAreSkippedAndCounted()
    {
        var query = new[] { R(1, "1"), R(2, "1"), R(-1, "1") };
        var gallery = new[] { R(1, "2"), R(2, "1"), R(3, "2"), R(-1, "2") };
        var d = M([0.1f, 0.2f, 0.3f, 0.4f], [0.1f, 0.2f, 0.3f, 0.4f], [0.1f, 0.2f, 0.3f, 0.4f]);
        var r = Evaluator.Evaluate(d, query, gallery);
        Assert.Equal(1, r.ValidQueries);   // query 2 only sees itself on its own camera; junk query never matches
        Assert.Equal(2, r.SkippedQueries);
        Assert.Equal(1, r.Rank1);
        Assert.Equal(1, r.MeanAP, 12);
        Assert.False(r.Queries[1].Valid);
    }

    [Fact]
    public void TiesKeepGalleryOrder()
    {
        var query = new[] { R(1, "1") };
        var negativeFirst = Evaluator.Evaluate(M([0.2f, 0.2f]), query, [R(2, "2"), R(1, "2")]);
        Assert.Equal(2, negativeFirst.Queries[0].FirstMatchRank);
        Assert.Equal(0.5, negativeFirst.MeanAP, 12);
        var positiveFirst = Evaluator.Evaluate(M([0.2f, 0.2f]), query, [R(1, "2"), R(2, "2")]);
        Assert.Equal(1, positiveFirst.Queries[0].FirstMatchRank);
        Assert.Equal(1.0, positiveFirst.MeanAP, 12);
    }

    [Fact]
    public void UnknownCamerasIgnoreNothing()
    {
        var r = Evaluator.Evaluate(M([0.1f, 0.2f]), [R(1, null)], [R(1, null), R(2, null)]);
        Assert.Equal(1, r.Rank1);
    }

    [Fact]
    public void CmcAveragesOverValidQueriesAndRunsToFifty()
    {
        // Two valid queries: first match at rank 1 and at rank 3.
        var query = new[] { R(1, "1"), R(2, "1") };
        var gallery = new[] { R(1, "2"), R(2, "2"), R(3, "2"), R(4, "2") };
        var d = M([0.1f, 0.2f, 0.3f, 0.4f], [0.1f, 0.4f, 0.2f, 0.5f]);
        var r = Evaluator.Evaluate(d, query, gallery, new EvaluationOptions(MaxRank: 50, TopK: 2));
        Assert.Equal(0.5, r.Cmc.At(1));
        Assert.Equal(0.5, r.Cmc.At(2));
        Assert.Equal(1.0, r.Cmc.At(3));
        Assert.Equal(1.0, r.Cmc.At(50));
        Assert.Equal((1 + 1 / 3.0) / 2, r.MeanAP, 12);
        Assert.Equal(2, r.Queries[1].Ranking.Matches.Count);
    }

    [Fact]
    public void VerificationCountsNonIgnoredPairsAndFindsThresholds()
    {
        var query = new[] { R(1, "1") };
        var gallery = new[] { R(1, "2"), R(2, "2"), R(2, "3"), R(1, "1"), R(-1, "2") };
        var r = Evaluator.Evaluate(M([0.1f, 0.2f, 0.05f, 0f, 0f]), query, gallery);
        var v = r.Verification!;
        Assert.Equal([-0.1f], v.Genuine);
        Assert.Equal([-0.05f, -0.2f], v.Impostor);
        Assert.Equal(0.5, v.Auc, 12);
        var half = v.AtFar(0.5);   // one impostor of two may pass: accept scores above -0.2
        Assert.Equal(-0.2f, half.Threshold);
        Assert.Equal(0.5, half.Far);
        Assert.Equal(1.0, half.Tar);
        var strict = v.AtFar(0.1); // no impostor may pass: accept scores above -0.05
        Assert.Equal(-0.05f, strict.Threshold);
        Assert.Equal(0, strict.Far);
        Assert.Equal(0, strict.Tar);
    }

    [Fact]
    public void AucCountsTiesAsHalf()
    {
        var query = new[] { R(1, "1") };
        var gallery = new[] { R(1, "2"), R(2, "2"), R(3, "2") };
        var v = Evaluator.Evaluate(M([0.2f, 0.2f, 0.3f]), query, gallery).Verification!;
        Assert.Equal((0.5 + 1) / 2, v.Auc, 12);
        var roc = v.Roc(20);
        Assert.True(roc.Far.Zip(roc.Far.Skip(1)).All(p => p.First <= p.Second));
        Assert.Equal(1.0, roc.Tar[^1]);
    }

    [Fact]
    public void CosineAndEuclideanDistancesMatchTheirDefinitions()
    {
        float[][] a = [[3, 4], [1, 0]];
        float[][] b = [[0, 2], [1, 0], [-1, 0]];
        var cos = DistanceMatrix.Compute(a, b, DistanceKind.Cosine);
        Assert.Equal(1 - 0.8f, cos[0, 0], 5);
        Assert.Equal(0f, cos[1, 1], 5);
        Assert.Equal(2f, cos[1, 2], 5);
        Assert.Equal(0.8f, cos.Score(cos[0, 0]), 5);
        var euc = DistanceMatrix.Compute(a, b, DistanceKind.Euclidean);
        Assert.Equal(MathF.Sqrt(9 + 4), euc[0, 0], 4);
        Assert.Equal(2f, euc[1, 2], 5);
        Assert.Equal(euc[0, 2], euc.Transpose()[2, 0]);
        Assert.Throws<Reid.Core.ReidException>(() => DistanceMatrix.Compute([[1f, 2f]], [[1f]], DistanceKind.Cosine));
    }
}
