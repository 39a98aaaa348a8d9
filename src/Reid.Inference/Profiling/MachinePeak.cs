using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Reid.Inference.Profiling;

/// <summary>
/// The machine's measured f32 fused-multiply-add peak: a register-only loop of independent FMA chains (no memory
/// traffic), on the widest vectors the CPU has (AVX-512, else AVX2+FMA, else scalar-free fallback via Vector256).
/// Measure it in the same run as the figure you divide by it: on a shared machine both move together.
/// </summary>
public static class MachinePeak
{
    /// <summary>The vector instruction set the loop used.</summary>
    public static string Isa => Avx512F.IsSupported ? "AVX-512F FMA (Vector512)" : Fma.IsSupported ? "FMA3 (Vector256)" : "Vector256 (no FMA unit)";

    /// <summary>GFLOP/s (a multiply-add counted as two) reached by <paramref name="threads"/> threads running together.</summary>
    public static double MeasureGflops(int threads, TimeSpan duration)
    {
        var flops = new double[threads];
        var start = new Barrier(threads);
        var seconds = new double[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            var sw = Stopwatch.StartNew();
            long iterations = 0;
            var seed = 1f + t * 1e-3f;
            while (sw.Elapsed < duration)
            {
                Sink = Loop(seed, 1 << 16);
                iterations += 1 << 16;
            }
            seconds[t] = sw.Elapsed.TotalSeconds;
            flops[t] = iterations * FlopsPerIteration;
        }) { IsBackground = true, Priority = ThreadPriority.Normal }).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        return flops.Sum() / seconds.Max() / 1e9;
    }

    /// <summary>Where loop results go, so the JIT must compute them.</summary>
    private static volatile float Sink;

    private const int Chains = 12;   // enough independent accumulators to cover FMA latency (4) x 2 pipes, with margin
    private static double FlopsPerIteration => Chains * 2.0 * (Avx512F.IsSupported ? 16 : 8);

    private static float Loop(float seed, int iterations) => Avx512F.IsSupported ? Loop512(seed, iterations) : Loop256(seed, iterations);

    private static float Loop512(float seed, int iterations)
    {
        var a = Vector512.Create(0.999999f);
        var b = Vector512.Create(seed * 1e-7f);
        Vector512<float> c0 = Vector512.Create(seed), c1 = c0 + b, c2 = c1 + b, c3 = c2 + b, c4 = c3 + b, c5 = c4 + b,
            c6 = c5 + b, c7 = c6 + b, c8 = c7 + b, c9 = c8 + b, c10 = c9 + b, c11 = c10 + b;
        for (var i = 0; i < iterations; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, a, b); c1 = Avx512F.FusedMultiplyAdd(c1, a, b);
            c2 = Avx512F.FusedMultiplyAdd(c2, a, b); c3 = Avx512F.FusedMultiplyAdd(c3, a, b);
            c4 = Avx512F.FusedMultiplyAdd(c4, a, b); c5 = Avx512F.FusedMultiplyAdd(c5, a, b);
            c6 = Avx512F.FusedMultiplyAdd(c6, a, b); c7 = Avx512F.FusedMultiplyAdd(c7, a, b);
            c8 = Avx512F.FusedMultiplyAdd(c8, a, b); c9 = Avx512F.FusedMultiplyAdd(c9, a, b);
            c10 = Avx512F.FusedMultiplyAdd(c10, a, b); c11 = Avx512F.FusedMultiplyAdd(c11, a, b);
        }
        // Use every chain so the JIT cannot drop any of them.
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    private static float Loop256(float seed, int iterations)
    {
        var a = Vector256.Create(0.999999f);
        var b = Vector256.Create(seed * 1e-7f);
        Vector256<float> c0 = Vector256.Create(seed), c1 = c0 + b, c2 = c1 + b, c3 = c2 + b, c4 = c3 + b, c5 = c4 + b,
            c6 = c5 + b, c7 = c6 + b, c8 = c7 + b, c9 = c8 + b, c10 = c9 + b, c11 = c10 + b;
        for (var i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b);
            c2 = Vector256.FusedMultiplyAdd(c2, a, b); c3 = Vector256.FusedMultiplyAdd(c3, a, b);
            c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b);
            c8 = Vector256.FusedMultiplyAdd(c8, a, b); c9 = Vector256.FusedMultiplyAdd(c9, a, b);
            c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
