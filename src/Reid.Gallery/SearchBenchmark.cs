using System.Diagnostics;
using System.Numerics.Tensors;

namespace Reid.Gallery;

/// <summary>One size of the exact-search benchmark.</summary>
/// <param name="QueriesPerSecond">single-threaded queries per second (median of the timed queries)</param>
/// <param name="BandwidthBoundQps">what a query could reach if it were limited only by the measured read bandwidth</param>
/// <param name="Kernel">"fused" (the index's scan) or "reference" (the straightforward loops, for comparison)</param>
public sealed record SearchBenchmarkResult(string Kernel, int Stored, int Dimension, bool Half, int Queries, double QueriesPerSecond,
    double P50Ms, double P99Ms, double ScannedGBPerSecond, double MemoryReadGBPerSecond, double BandwidthBoundQps,
    double FractionOfBandwidth, double Parallelism);

/// <summary>
/// Measures the exact top-k search on synthetic unit vectors (random, so the timing is that of real vectors of the
/// same size: the scan does not depend on the values) and, in the same run, the machine's streaming read bandwidth
/// (a sum over a buffer far larger than the caches), so the result can be stated as a fraction of the bound.
/// </summary>
public static class SearchBenchmark
{
    /// <summary>
    /// Times <paramref name="queries"/> top-k queries on one index; with <paramref name="compare"/> the reference
    /// scan is timed too, query by query alternating with the fused one on the same index and probes, so both see
    /// the same machine load (the first result is then the reference).
    /// </summary>
    public static IReadOnlyList<SearchBenchmarkResult> Run(int stored, int dimension, bool half, int queries, int k = 50,
        int parallelism = 1, int seed = 1, bool compare = false)
    {
        var index = new SearchIndex(dimension, new SearchIndexOptions(half, ParallelThreshold: parallelism > 1 ? 1 : int.MaxValue, MaxParallelism: parallelism));
        index.Reserve(stored);
        var rng = new Random(seed);
        var v = new float[dimension];
        for (var i = 0; i < stored; i++)
        {
            RandomUnit(rng, v);
            index.Add(i, i / 4, v);
        }
        ScanKernel[] kernels = compare ? [ScanKernel.Reference, ScanKernel.Fused] : [ScanKernel.Fused];
        var probe = new float[dimension];
        for (var w = 0; w < Math.Min(3, queries); w++) // warm-up (JIT, page faults)
        {
            RandomUnit(rng, probe);
            foreach (var kernel in kernels) index.TopSightings(probe, k, kernel);
        }

        var times = kernels.Select(_ => new double[queries]).ToArray();
        for (var q = 0; q < queries; q++)
        {
            RandomUnit(rng, probe);
            for (var j = 0; j < kernels.Length; j++)
            {
                var t = Stopwatch.GetTimestamp();
                index.TopSightings(probe, k, kernels[j]);
                times[j][q] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            }
        }
        var bytes = (double)stored * dimension * (half ? 2 : 4);
        var bandwidth = MemoryReadBandwidth(parallelism);
        var bound = bandwidth * 1e9 / bytes;
        return kernels.Select((kernel, j) =>
        {
            var sorted = times[j].Order().ToArray();
            var p50 = sorted[sorted.Length / 2];
            var p99 = sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(sorted.Length * 0.99) - 1)];
            var qps = 1000.0 / p50;
            return new SearchBenchmarkResult(kernel.ToString().ToLowerInvariant(), stored, dimension, half, queries, qps, p50, p99,
                bytes / (p50 / 1000) / 1e9, bandwidth, bound, qps / bound, parallelism);
        }).ToArray();
    }

    /// <summary>Streaming read bandwidth in GB/s: the best of a few full passes summing a 512 MB buffer (SIMD).</summary>
    public static double MemoryReadBandwidth(int parallelism = 1, int megabytes = 512)
    {
        var data = new float[megabytes * 1024 / 4 * 1024];
        data.AsSpan().Fill(1f);
        var best = double.MaxValue;
        for (var pass = 0; pass < 5; pass++)
        {
            var t = Stopwatch.GetTimestamp();
            if (parallelism <= 1) _ = TensorPrimitives.Sum(data);
            else
            {
                var chunk = data.Length / parallelism;
                Parallel.For(0, parallelism, new ParallelOptions { MaxDegreeOfParallelism = parallelism },
                    c => _ = TensorPrimitives.Sum(data.AsSpan(c * chunk, chunk)));
            }
            best = Math.Min(best, Stopwatch.GetElapsedTime(t).TotalSeconds);
        }
        return (double)data.Length * 4 / best / 1e9;
    }

    private static void RandomUnit(Random rng, float[] v)
    {
        for (var i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
    }
}
