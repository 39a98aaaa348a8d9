using Reid.Data;
using Reid.SpatialTemporal;

namespace Reid.SpatialTemporal.Tests;

public class FusionFitterTests
{
    /// <summary>
    /// 80 people walk camera 1 → 2 (60 ± 10 s) → 3 (+200 ± 20 s) at random times over ~6 hours, three crops per
    /// camera; embeddings are an identity direction plus heavy noise, so appearance alone is mediocre.
    /// </summary>
    internal static (List<ImageRecord> Records, List<float[]> Embeddings) Walkers(int people = 80, double noise = 1.3, int seed = 3)
    {
        var rng = new Random(seed);
        var records = new List<ImageRecord>();
        var embeddings = new List<float[]>();
        const int dim = 16;
        for (var p = 1; p <= people; p++)
        {
            var centre = Enumerable.Range(0, dim).Select(_ => (float)Gauss(rng)).ToArray();
            var t = rng.NextDouble() * 20000;
            foreach (var (camera, delay) in new[] { ("1", 0.0), ("2", 60 + 10 * Gauss(rng)), ("3", 260 + 20 * Gauss(rng)) })
            {
                for (var k = 0; k < 3; k++)
                {
                    var e = centre.Select(c => c + (float)(noise * Gauss(rng))).ToArray();
                    records.Add(new ImageRecord($"{p:D4}_c{camera}_{k}.jpg", p, camera, Timestamp: t + delay + 2 * k));
                    embeddings.Add(e);
                }
            }
        }
        return (records, embeddings);
    }

    private static double Gauss(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    [Fact]
    public void Fitting_on_a_training_fold_beats_appearance_alone_on_that_fold()
    {
        var (records, embeddings) = Walkers();
        var grid = new FusionGrid { SmoothingSeconds = [10, 40], Gamma0 = [5], Lambda1 = [2, 20], Gamma1 = [10, 100, 1000] };
        var fit = FusionFitter.Fit(records, embeddings, grid, new FoldOptions(0.25, 5));
        Assert.Equal(20, fit.FoldIdentities);
        Assert.Equal(60, fit.FitIdentities);
        Assert.Equal(60, fit.FoldQueries);        // one per identity and camera
        Assert.Equal(120, fit.FoldGallery);
        Assert.Equal(12, fit.Combinations);
        Assert.True(fit.Appearance.MeanAP < 0.9, $"appearance alone too easy: {fit.Appearance.MeanAP}");
        Assert.True(fit.Fused.MeanAP > fit.Appearance.MeanAP + 0.05, $"fused {fit.Fused.MeanAP} vs appearance {fit.Appearance.MeanAP}");
        Assert.Contains(fit.SmoothingSeconds, grid.SmoothingSeconds);
    }

    [Fact]
    public void Too_few_identities_for_a_fold_is_a_user_error()
    {
        var (records, embeddings) = Walkers(people: 3);
        Assert.Throws<Reid.Core.ReidException>(() => FusionFitter.Fit(records, embeddings, fold: new FoldOptions(0.2)));
    }
}
