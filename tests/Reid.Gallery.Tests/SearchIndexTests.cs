using Reid.Core;
using Reid.Gallery;
using static Reid.Gallery.Tests.GalleryStoreTests;

namespace Reid.Gallery.Tests;

public class SearchIndexTests
{
    private static float Dot(float[] a, float[] b) => a.Zip(b, (x, y) => x * y).Sum();

    [Theory]
    [InlineData(false, 200_000)]
    [InlineData(true, 200_000)]
    [InlineData(false, 16)] // forces the parallel path
    public void Top_k_matches_a_brute_force_reference(bool half, int parallelThreshold)
    {
        const int d = 64, n = 500;
        var index = new SearchIndex(d, new SearchIndexOptions(half, parallelThreshold, 2));
        var vectors = Enumerable.Range(0, n).Select(i => Unit(d, i)).ToArray();
        for (var i = 0; i < n; i++) index.Add(1000 + i, i % 50, vectors[i]);
        var q = Unit(d, 9999);
        var expected = Enumerable.Range(0, n).OrderByDescending(i => Dot(q, vectors[i])).Take(10).ToArray();
        var hits = index.TopSightings(q, 10);
        Assert.Equal(expected.Select(i => 1000L + i), hits.Select(h => h.SightingId));
        var tol = half ? 2e-3f : 1e-5f;
        for (var j = 0; j < 10; j++) Assert.InRange(hits[j].Score - Dot(q, vectors[expected[j]]), -tol, tol);
    }

    [Theory]
    [InlineData(512, 1003)] // the product's width; a row count that is not a multiple of 4
    [InlineData(100, 9)]    // a tail after the last full vector
    [InlineData(7, 5)]      // shorter than one vector
    [InlineData(64, 3)]     // fewer rows than one pass of four
    public void Fused_kernels_score_as_the_reference_loops(int d, int n)
    {
        var rng = new Random(d * 31 + n);
        var rows = new float[n * d];
        for (var i = 0; i < rows.Length; i++)
            rows[i] = (i % 11) switch
            {
                0 => 0f,                                           // exact zeros
                1 => (float)(rng.NextDouble() - 0.5) * 1e-6f,      // fp16 subnormals
                2 => -(float)rng.NextDouble(),                     // negative values
                _ => (float)(rng.NextDouble() * 2 - 1) * 0.2f,
            };
        var probe = Unit(d, 77);
        var halves = new Half[rows.Length];
        System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(rows, halves);
        var (fused, reference) = (new float[n], new float[n]);

        DotKernels.Dot(probe, rows, fused);
        DotKernels.ReferenceDot(probe, rows, reference);
        for (var r = 0; r < n; r++) Assert.InRange(fused[r] - reference[r], -1e-5f, 1e-5f);

        DotKernels.Dot(probe, halves, fused);
        DotKernels.ReferenceDot(probe, halves, reference);
        // The same fp16 values widened exactly: only the order of the additions differs.
        for (var r = 0; r < n; r++) Assert.InRange(fused[r] - reference[r], -1e-5f, 1e-5f);
        Assert.Contains(reference, v => v != 0f);
    }

    [Fact]
    public void A_probe_too_large_to_scale_still_scores_fp16_rows_exactly()
    {
        var index = new SearchIndex(32, new SearchIndexOptions(Half: true));
        for (var i = 0; i < 10; i++) index.Add(i, i, Unit(32, i));
        var big = Unit(32, 3).Select(x => x * 1e6f).ToArray(); // x 2^112 would overflow
        var hit = index.TopSightings(big, 1)[0];
        Assert.Equal(3, hit.SightingId);
        Assert.InRange(hit.Score / 1e6f, 0.998f, 1.002f);
    }

    [Fact]
    public void Identity_scores_are_best_and_mean_over_sightings()
    {
        var index = new SearchIndex(2);
        index.Add(1, 7, [1f, 0f]);
        index.Add(2, 7, [0f, 1f]);
        index.Add(3, 8, [0.6f, 0.8f]);
        var ranked = index.RankIdentities([1f, 0f], 10);
        Assert.Equal([7L, 8L], ranked.Select(h => h.IdentityId));
        Assert.Equal(1f, ranked[0].Best, 5);
        Assert.Equal(0.5f, ranked[0].Mean, 5);
        Assert.Equal(2, ranked[0].Sightings);
        Assert.Equal(0.6f, index.ScoreIdentity([1f, 0f], 8)!.Value.Best, 5);
        Assert.Null(index.ScoreIdentity([1f, 0f], 99));
    }

    [Fact]
    public void Removal_and_replacement_keep_the_index_consistent()
    {
        var index = new SearchIndex(2);
        for (var i = 0; i < 3000; i++) index.Add(i, i % 3, [MathF.Cos(i), MathF.Sin(i)]);
        Assert.Equal(1000, index.RemoveIdentity(1));
        Assert.Equal(2000, index.Count);
        Assert.DoesNotContain(index.TopSightings([1f, 0f], 3000), h => h.IdentityId == 1);
        Assert.All(index.TopSightings([1f, 0f], 3000), h => Assert.Equal(h.SightingId % 3, h.IdentityId));
        index.Add(0, 0, [-1f, 0f]); // replace sighting 0's vector
        Assert.Equal(2000, index.Count);
        Assert.Equal(0, index.TopSightings([-1f, 0f], 1)[0].SightingId);
        Assert.True(index.RemoveSighting(0));
        Assert.False(index.RemoveSighting(0));
    }

    [Fact]
    public void Wrong_dimension_is_a_clear_error()
    {
        var index = new SearchIndex(4);
        var e = Assert.Throws<ReidException>(() => index.Add(1, 1, [1f, 0f]));
        Assert.Contains("4-d", e.Message);
    }

    [Fact]
    public async Task Concurrent_queries_and_writes_do_not_corrupt_results()
    {
        const int d = 32;
        var index = new SearchIndex(d);
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < 4000; i++)
            {
                index.Add(i, i % 40, Unit(d, i));
                if (i % 500 == 499) index.RemoveIdentity(i % 40);
            }
        });
        var readers = Enumerable.Range(0, 3).Select(t => Task.Run(() =>
        {
            while (!writer.IsCompleted)
            {
                var hits = index.TopSightings(Unit(d, -1 - t), 5);
                for (var j = 1; j < hits.Count; j++) Assert.True(hits[j - 1].Score >= hits[j].Score);
            }
        })).ToArray();
        await Task.WhenAll([writer, .. readers]);
        Assert.Equal(index.Count, index.TopSightings(Unit(d, 5), 100_000).Count);
    }
}
