using Reid.Core;
using Reid.Data;
using Reid.Evaluation;

namespace Reid.SpatialTemporal;

/// <summary>The grid the fitter searches; λ0 stays at the paper's 1 (only the ratio of the two factors' slopes matters much).</summary>
public sealed record FusionGrid
{
    public double[] SmoothingSeconds { get; init; } = [10, 20, 40, 80, 200];
    public double[] Gamma0 { get; init; } = [2.5, 5, 10, 20];
    public double[] Lambda1 { get; init; } = [1, 2, 5, 20, 100];
    public double[] Gamma1 { get; init; } = [10, 30, 100, 300, 1000, 3000];
    public int Combinations => SmoothingSeconds.Length * Gamma0.Length * Lambda1.Length * Gamma1.Length;
}

/// <summary>How the validation fold is drawn from the training identities.</summary>
public sealed record FoldOptions(double Fraction = 0.2, int Seed = 1);

/// <summary>Validation figures of one setting.</summary>
public sealed record FoldFigures(double Rank1, double MeanAP, int ValidQueries);

/// <summary>What fitting chose and how it did on the validation fold (training identities only).</summary>
public sealed record FusionFit(FusionParameters Fusion, double SmoothingSeconds, FoldFigures Appearance, FoldFigures Fused,
                               int FoldIdentities, int FitIdentities, int FoldQueries, int FoldGallery, int Combinations);

/// <summary>
/// Fits the fusion parameters and the smoothing width on training identities only: a seeded fraction of them
/// becomes a validation fold (one query per identity and camera, the rest gallery, as holdout-v1); the
/// travel-time model is learned from the other training identities; the setting with the best validation
/// mAP (then Rank-1) wins. Query and gallery of the evaluation split are never looked at.
/// </summary>
public static class FusionFitter
{
    public static FusionFit Fit(IReadOnlyList<ImageRecord> train, IReadOnlyList<float[]> embeddings, FusionGrid? grid = null,
                                FoldOptions? fold = null, IProgress<double>? progress = null)
    {
        grid ??= new FusionGrid();
        fold ??= new FoldOptions();
        if (embeddings.Count != train.Count) throw new ArgumentException($"{embeddings.Count} embeddings for {train.Count} training images");
        if (fold.Fraction is <= 0 or >= 1) throw new ReidException($"validation fold fraction must be in (0, 1), got {fold.Fraction}");

        var labelled = Enumerable.Range(0, train.Count).Where(i => !train[i].IsJunk && !train[i].IsDistractor).ToList();
        var ids = labelled.Select(i => train[i].PersonId).Distinct().Order().ToArray();
        new Random(fold.Seed).Shuffle(ids);
        var foldCount = (int)Math.Round(ids.Length * fold.Fraction);
        if (foldCount < 2 || ids.Length - foldCount < 2)
            throw new ReidException($"spatial-temporal fitting needs more training identities than {ids.Length} for a validation fold");
        var foldIds = ids.Take(foldCount).ToHashSet();

        var fitRecords = labelled.Where(i => !foldIds.Contains(train[i].PersonId)).Select(i => train[i]).ToList();
        var (queryIdx, galleryIdx) = SplitFold(train, labelled.Where(i => foldIds.Contains(train[i].PersonId)).ToList(), fold.Seed);
        var query = queryIdx.Select(i => train[i]).ToList();
        var gallery = galleryIdx.Select(i => train[i]).ToList();
        var appearance = DistanceMatrix.Compute(queryIdx.Select(i => embeddings[i]).ToList(), galleryIdx.Select(i => embeddings[i]).ToList(), DistanceKind.Cosine);
        var similarity = SpatialTemporalRanking.Similarities(appearance);
        var options = new EvaluationOptions(Verification: false);
        var baseline = Figures(Evaluator.Evaluate(appearance, query, gallery, options));

        var model = RecordSightings.Learn(fitRecords, new SpatialTemporalOptions { SmoothingSeconds = grid.SmoothingSeconds[0] });
        var qs = model.ToSightings(query);
        var gs = model.ToSightings(gallery);
        FusionFit? best = null;
        var done = 0;
        foreach (var sigma in grid.SmoothingSeconds)
        {
            var smoothed = model.WithSmoothing(sigma);
            var p = new double[similarity.Length];
            for (var r = 0; r < qs.Length; r++)
                for (var c = 0; c < gs.Length; c++) p[r * gs.Length + c] = smoothed.Evidence(qs[r], gs[c]).Probability;
            foreach (var g0 in grid.Gamma0)
                foreach (var l1 in grid.Lambda1)
                    foreach (var g1 in grid.Gamma1)
                    {
                        var f = new FusionParameters(1, g0, l1, g1);
                        var d = new float[similarity.Length];
                        for (var i = 0; i < d.Length; i++) d[i] = (float)-Math.Log(f.Joint(similarity[i], p[i]));
                        var figures = Figures(Evaluator.Evaluate(new DistanceMatrix(qs.Length, gs.Length, d, DistanceKind.Derived), query, gallery, options));
                        if (best is null || figures.MeanAP > best.Fused.MeanAP || figures.MeanAP == best.Fused.MeanAP && figures.Rank1 > best.Fused.Rank1)
                            best = new FusionFit(f, sigma, baseline, figures, foldIds.Count, ids.Length - foldIds.Count, query.Count, gallery.Count, grid.Combinations);
                        progress?.Report(++done / (double)grid.Combinations);
                    }
        }
        return best ?? throw new ReidException("spatial-temporal fitting: the grid is empty");
    }

    /// <summary>One query per identity and camera (seeded), the rest gallery — holdout-v1's rule on the fold.</summary>
    private static (List<int> Query, List<int> Gallery) SplitFold(IReadOnlyList<ImageRecord> records, List<int> fold, int seed)
    {
        var rng = new Random(seed);
        var query = new List<int>();
        var gallery = new List<int>();
        foreach (var group in fold.GroupBy(i => (records[i].PersonId, records[i].Camera)).OrderBy(g => g.Key.PersonId).ThenBy(g => g.Key.Camera, StringComparer.Ordinal))
        {
            var images = group.OrderBy(i => records[i].Path, StringComparer.Ordinal).ToArray();
            var pick = rng.Next(images.Length);
            query.Add(images[pick]);
            gallery.AddRange(images.Where((_, k) => k != pick));
        }
        return (query, gallery);
    }

    private static FoldFigures Figures(EvaluationResult r) => new(r.Rank1, r.MeanAP, r.ValidQueries);
}
