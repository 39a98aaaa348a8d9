using Reid.Core;
using Reid.Data;
using Reid.Evaluation;

namespace Reid.SpatialTemporal;

/// <summary>The grid the fitter searches; λ0 stays at the paper's 1 (only the ratio of the two factors' slopes matters much).</summary>
public sealed record FusionGrid
{
    // Around where wider searches on holdout-v1's training folds always ended (σ 200–400 s, γ0 2.5, λ1 1–5, γ1 30):
    // 54 settings keep `reid st learn` to minutes on a CPU.
    public double[] SmoothingSeconds { get; init; } = [100, 200, 400];
    public double[] Gamma0 { get; init; } = [1, 2.5];
    public double[] Lambda1 { get; init; } = [1, 2, 5];
    public double[] Gamma1 { get; init; } = [10, 30, 100];
    public int Combinations => SmoothingSeconds.Length * Gamma0.Length * Lambda1.Length * Gamma1.Length;
}

/// <summary>How the training identities are cut into validation folds (each fold's identities are held out once).</summary>
public sealed record FoldOptions(int Folds = 3, int Seed = 1);

/// <summary>Validation figures of one setting, averaged over the folds.</summary>
public sealed record FoldFigures(double Rank1, double MeanAP, int ValidQueries);

/// <summary>What fitting chose and how it did on the validation folds (training identities only).</summary>
public sealed record FusionFit(FusionParameters Fusion, double SmoothingSeconds, FoldFigures Appearance, FoldFigures Fused,
                               int Folds, int Identities, int FoldQueries, int FoldGallery, int Combinations);

/// <summary>
/// Fits the fusion parameters and the smoothing width on training identities only, by cross-validation: the
/// identities are dealt (seeded) into folds; for each fold the travel-time model is learned from the other
/// folds' identities, and the fold becomes a query/gallery split (one query per identity and camera, the rest
/// gallery, as holdout-v1). The setting with the best mean mAP over the folds (then Rank-1) wins. Query and
/// gallery of the evaluation split are never looked at.
/// </summary>
public static class FusionFitter
{
    private sealed record Fold(List<ImageRecord> Query, List<ImageRecord> Gallery, float[] Similarity, List<float[]> Probability);

    public static FusionFit Fit(IReadOnlyList<ImageRecord> train, IReadOnlyList<float[]> embeddings, FusionGrid? grid = null,
                                FoldOptions? folding = null, IProgress<double>? progress = null)
    {
        grid ??= new FusionGrid();
        folding ??= new FoldOptions();
        if (embeddings.Count != train.Count) throw new ArgumentException($"{embeddings.Count} embeddings for {train.Count} training images");
        if (folding.Folds < 2) throw new ReidException($"cross-validation needs at least 2 folds, got {folding.Folds}");
        if (grid.Combinations == 0) throw new ReidException("spatial-temporal fitting: the grid is empty");

        var labelled = Enumerable.Range(0, train.Count).Where(i => !train[i].IsJunk && !train[i].IsDistractor).ToList();
        var ids = labelled.Select(i => train[i].PersonId).Distinct().Order().ToArray();
        if (ids.Length < 2 * folding.Folds)
            throw new ReidException($"spatial-temporal fitting needs at least {2 * folding.Folds} training identities for {folding.Folds} folds, got {ids.Length}");
        new Random(folding.Seed).Shuffle(ids);
        var foldOf = ids.Select((id, k) => (id, k)).ToDictionary(x => x.id, x => x.k % folding.Folds);

        var options = new EvaluationOptions(Verification: false);
        var folds = new List<Fold>();
        var baseline = new List<FoldFigures>();
        for (var f = 0; f < folding.Folds; f++)
        {
            var fitRecords = labelled.Where(i => foldOf[train[i].PersonId] != f).Select(i => train[i]).ToList();
            var (queryIdx, galleryIdx) = SplitFold(train, labelled.Where(i => foldOf[train[i].PersonId] == f).ToList(), folding.Seed + f);
            var query = queryIdx.Select(i => train[i]).ToList();
            var gallery = galleryIdx.Select(i => train[i]).ToList();
            var appearance = DistanceMatrix.Compute(queryIdx.Select(i => embeddings[i]).ToList(), galleryIdx.Select(i => embeddings[i]).ToList(), DistanceKind.Cosine);
            baseline.Add(Figures(Evaluator.Evaluate(appearance, query, gallery, options)));
            var model = RecordSightings.Learn(fitRecords, new SpatialTemporalOptions { SmoothingSeconds = grid.SmoothingSeconds[0] });
            var qs = model.ToCameraTimes(query);
            var gs = model.ToCameraTimes(gallery);
            var probabilities = grid.SmoothingSeconds.Select(sigma =>
            {
                var smoothed = model.WithSmoothing(sigma);
                var p = new float[qs.Length * gs.Length];
                for (var r = 0; r < qs.Length; r++)
                    for (var c = 0; c < gs.Length; c++) p[r * gs.Length + c] = (float)smoothed.Evidence(qs[r], gs[c]).Probability;
                return p;
            }).ToList();
            folds.Add(new Fold(query, gallery, SpatialTemporalRanking.Similarities(appearance), probabilities));
        }

        FusionFit? best = null;
        var done = 0;
        for (var si = 0; si < grid.SmoothingSeconds.Length; si++)
            foreach (var g0 in grid.Gamma0)
                foreach (var l1 in grid.Lambda1)
                    foreach (var g1 in grid.Gamma1)
                    {
                        var f = new FusionParameters(1, g0, l1, g1);
                        var figures = Mean(folds.Select(fold =>
                        {
                            var (s, p) = (fold.Similarity, fold.Probability[si]);
                            var d = new float[s.Length];
                            for (var i = 0; i < d.Length; i++) d[i] = (float)-Math.Log(f.Joint(s[i], p[i]));
                            return Figures(Evaluator.Evaluate(new DistanceMatrix(fold.Query.Count, fold.Gallery.Count, d, DistanceKind.Derived), fold.Query, fold.Gallery, options));
                        }).ToList());
                        if (best is null || figures.MeanAP > best.Fused.MeanAP || figures.MeanAP == best.Fused.MeanAP && figures.Rank1 > best.Fused.Rank1)
                            best = new FusionFit(f, grid.SmoothingSeconds[si], Mean(baseline), figures, folding.Folds, ids.Length,
                                                 folds.Sum(x => x.Query.Count), folds.Sum(x => x.Gallery.Count), grid.Combinations);
                        progress?.Report(++done / (double)grid.Combinations);
                    }
        return best!;
    }

    private static FoldFigures Mean(IReadOnlyList<FoldFigures> f) => new(f.Average(x => x.Rank1), f.Average(x => x.MeanAP), f.Sum(x => x.ValidQueries));

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
