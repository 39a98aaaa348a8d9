using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Reid.Gallery;

/// <summary>
/// The exact-search inner loops: one probe against many consecutive rows, fp32 or fp16, written for the memory
/// bus rather than for one dot product at a time.
/// <list type="bullet">
/// <item>Four rows per pass share each load of the probe and give four independent FMA chains (one call per row
/// spent its time in call overhead, a horizontal sum and a single dependency chain).</item>
/// <item>fp16 is widened in registers, fused with the dot product; no float copy is written. .NET 10 exposes no
/// F16C/AVX-512-FP16 conversion, so the widening is integer SIMD: sign-extend each half to 32 bits, shift its
/// exponent and mantissa into float position and keep the sign: the float that results is the half's value
/// times 2^-112 (the difference of the exponent biases) exactly, subnormals and zero included. Multiplying the
/// probe by 2^112 once per query undoes it, so the inner loop is widen, shift, and, FMA.</item>
/// </list>
/// Used when 256- or 512-bit vectors are hardware-accelerated; otherwise the reference (TensorPrimitives per row).
/// </summary>
internal static class DotKernels
{
    /// <summary>2^112: fp32's exponent bias (127) minus fp16's (15).</summary>
    private static readonly float HalfBiasScale = MathF.ScaleB(1f, 112);

    /// <summary>Probes larger than this in magnitude would overflow once scaled by 2^112 (unit vectors are ≤ 1).</summary>
    private const float MaxScaledProbeMagnitude = 1e4f;

    public static bool Accelerated => Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated;

    /// <summary>scores[r] = probe · rows[r], rows of probe.Length floats one after the other.</summary>
    public static void Dot(ReadOnlySpan<float> probe, ReadOnlySpan<float> rows, Span<float> scores)
    {
        if (Vector512.IsHardwareAccelerated) Dot<Lanes512, Vector512<float>>(probe, rows, scores);
        else if (Vector256.IsHardwareAccelerated) Dot<Lanes256, Vector256<float>>(probe, rows, scores);
        else ReferenceDot(probe, rows, scores);
    }

    /// <summary>scores[r] = probe · rows[r] for fp16 rows, without materialising them as floats.</summary>
    public static void Dot(ReadOnlySpan<float> probe, ReadOnlySpan<Half> rows, Span<float> scores)
    {
        if (!Accelerated || !BitConverter.IsLittleEndian || TensorPrimitives.MaxMagnitude(probe) > MaxScaledProbeMagnitude)
        {
            ReferenceDot(probe, rows, scores);
            return;
        }
        Span<float> scaled = probe.Length <= 2048 ? stackalloc float[probe.Length] : new float[probe.Length];
        if (Vector512.IsHardwareAccelerated) DotHalf<Lanes512, Vector512<float>>(scaled, probe, rows, scores);
        else DotHalf<Lanes256, Vector256<float>>(scaled, probe, rows, scores);
    }

    /// <summary>The straightforward loops (one TensorPrimitives.Dot per row; fp16 widened block by block into a
    /// buffer): the oracle of the tests and the baseline of `reid gallery bench-search --compare` (fully optimised
    /// from the first call too, so the comparison is of the loops, not of the tiering).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReferenceDot(ReadOnlySpan<float> probe, ReadOnlySpan<float> rows, Span<float> scores)
    {
        var d = probe.Length;
        for (var r = 0; r < scores.Length; r++) scores[r] = TensorPrimitives.Dot(probe, rows.Slice(r * d, d));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReferenceDot(ReadOnlySpan<float> probe, ReadOnlySpan<Half> rows, Span<float> scores)
    {
        const int blockRows = 16;
        var d = probe.Length;
        var buffer = new float[blockRows * d];
        for (var r = 0; r < scores.Length; r += blockRows)
        {
            var n = Math.Min(blockRows, scores.Length - r);
            var dst = buffer.AsSpan(0, n * d);
            TensorPrimitives.ConvertToSingle(rows.Slice(r * d, n * d), dst);
            for (var i = 0; i < n; i++) scores[r + i] = TensorPrimitives.Dot(probe, dst.Slice(i * d, d));
        }
    }

    // ---- the generic kernels (specialised by the JIT per vector width) -------------------------------------

    // Fully optimised at first call: one call scans a whole index, so tiered compilation would run it as
    // unoptimised or on-stack-replaced code (accumulators spilled to the stack) for the first ~30 queries.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot<TL, TV>(ReadOnlySpan<float> probe, ReadOnlySpan<float> rows, Span<float> scores)
        where TL : struct, ILanes<TV> where TV : struct
    {
        var d = probe.Length;
        var full = d - d % TL.Count;
        ref var q = ref MemoryMarshal.GetReference(probe);
        ref var data = ref MemoryMarshal.GetReference(rows);
        var n = scores.Length;
        var r = 0;
        for (; r + 4 <= n; r += 4)
        {
            ref var r0 = ref Unsafe.Add(ref data, (nint)r * d);
            ref var r1 = ref Unsafe.Add(ref r0, d);
            ref var r2 = ref Unsafe.Add(ref r1, d);
            ref var r3 = ref Unsafe.Add(ref r2, d);
            TV a0 = TL.Zero, a1 = TL.Zero, a2 = TL.Zero, a3 = TL.Zero;
            for (nuint i = 0; i < (nuint)full; i += (nuint)TL.Count)
            {
                var qv = TL.Load(ref q, i);
                a0 = TL.Fma(TL.Load(ref r0, i), qv, a0);
                a1 = TL.Fma(TL.Load(ref r1, i), qv, a1);
                a2 = TL.Fma(TL.Load(ref r2, i), qv, a2);
                a3 = TL.Fma(TL.Load(ref r3, i), qv, a3);
            }
            scores[r] = TL.Sum(a0) + Tail(probe, rows.Slice(r * d, d), full);
            scores[r + 1] = TL.Sum(a1) + Tail(probe, rows.Slice((r + 1) * d, d), full);
            scores[r + 2] = TL.Sum(a2) + Tail(probe, rows.Slice((r + 2) * d, d), full);
            scores[r + 3] = TL.Sum(a3) + Tail(probe, rows.Slice((r + 3) * d, d), full);
        }
        for (; r < n; r++) scores[r] = TensorPrimitives.Dot(probe, rows.Slice(r * d, d));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotHalf<TL, TV>(Span<float> scaledProbe, ReadOnlySpan<float> probe, ReadOnlySpan<Half> rows, Span<float> scores)
        where TL : struct, ILanes<TV> where TV : struct
    {
        var d = probe.Length;
        var step = 2 * TL.Count; // halves per vector of 16-bit lanes
        var full = d - d % step;
        // The probe times 2^112, each block of `step` values reordered as its even then its odd elements, to match
        // what LoadHalves yields.
        for (var i = 0; i < full; i += step)
        for (var j = 0; j < TL.Count; j++)
        {
            scaledProbe[i + j] = probe[i + 2 * j] * HalfBiasScale;
            scaledProbe[i + TL.Count + j] = probe[i + 2 * j + 1] * HalfBiasScale;
        }
        ref var q = ref MemoryMarshal.GetReference(scaledProbe);
        ref var data = ref Unsafe.As<Half, short>(ref MemoryMarshal.GetReference(rows));
        var n = scores.Length;
        var r = 0;
        for (; r + 4 <= n; r += 4)
        {
            ref var r0 = ref Unsafe.Add(ref data, (nint)r * d);
            ref var r1 = ref Unsafe.Add(ref r0, d);
            ref var r2 = ref Unsafe.Add(ref r1, d);
            ref var r3 = ref Unsafe.Add(ref r2, d);
            TV a0 = TL.Zero, a1 = TL.Zero, a2 = TL.Zero, a3 = TL.Zero;
            for (nuint i = 0; i < (nuint)full; i += (nuint)step)
            {
                var qLo = TL.Load(ref q, i);
                var qHi = TL.Load(ref q, i + (nuint)TL.Count);
                var (lo, hi) = TL.LoadHalves(ref r0, i);
                a0 = TL.Fma(hi, qHi, TL.Fma(lo, qLo, a0));
                (lo, hi) = TL.LoadHalves(ref r1, i);
                a1 = TL.Fma(hi, qHi, TL.Fma(lo, qLo, a1));
                (lo, hi) = TL.LoadHalves(ref r2, i);
                a2 = TL.Fma(hi, qHi, TL.Fma(lo, qLo, a2));
                (lo, hi) = TL.LoadHalves(ref r3, i);
                a3 = TL.Fma(hi, qHi, TL.Fma(lo, qLo, a3));
            }
            scores[r] = TL.Sum(a0) + Tail(probe, rows.Slice(r * d, d), full);
            scores[r + 1] = TL.Sum(a1) + Tail(probe, rows.Slice((r + 1) * d, d), full);
            scores[r + 2] = TL.Sum(a2) + Tail(probe, rows.Slice((r + 2) * d, d), full);
            scores[r + 3] = TL.Sum(a3) + Tail(probe, rows.Slice((r + 3) * d, d), full);
        }
        if (r < n) ReferenceDot(probe, rows[(r * d)..], scores[r..]);
    }

    // Dimensions that are not a multiple of the vector width: the last few values, scalar.
    private static float Tail(ReadOnlySpan<float> probe, ReadOnlySpan<float> row, int from)
    {
        var s = 0f;
        for (var i = from; i < probe.Length; i++) s += probe[i] * row[i];
        return s;
    }

    private static float Tail(ReadOnlySpan<float> probe, ReadOnlySpan<Half> row, int from)
    {
        var s = 0f;
        for (var i = from; i < probe.Length; i++) s += probe[i] * (float)row[i];
        return s;
    }

    /// <summary>One vector width's operations; the kernels are written once against this.</summary>
    private interface ILanes<TV> where TV : struct
    {
        static abstract int Count { get; }
        static abstract TV Zero { get; }
        static abstract TV Load(ref float p, nuint i);
        static abstract TV Fma(TV a, TV b, TV c);
        static abstract float Sum(TV v);

        /// <summary>2·Count halves from p[i…] as two float vectors holding value·2^-112 (see the class comment): the
        /// even-indexed halves, then the odd-indexed ones.</summary>
        static abstract (TV Lo, TV Hi) LoadHalves(ref short p, nuint i);
    }

    // After the arithmetic shift: sign in bit 31 (copied into 28-30), exponent and mantissa in bits 13-27, and
    // (odd halves) the even half's bits below 13. Keep sign, exponent and mantissa.
    private const int HalfBitsMask = unchecked((int)0x8FFF_E000);

    private readonly struct Lanes512 : ILanes<Vector512<float>>
    {
        public static int Count => Vector512<float>.Count;
        public static Vector512<float> Zero => Vector512<float>.Zero;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(ref float p, nuint i) => Vector512.LoadUnsafe(ref p, i);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
        public static float Sum(Vector512<float> v) => Vector512.Sum(v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector512<float>, Vector512<float>) LoadHalves(ref short p, nuint i)
        {
            var pair = Vector512.LoadUnsafe(ref p, i).AsInt32();
            var mask = Vector512.Create(HalfBitsMask);
            return ((Vector512.ShiftRightArithmetic(Vector512.ShiftLeft(pair, 16), 3) & mask).AsSingle(),
                    (Vector512.ShiftRightArithmetic(pair, 3) & mask).AsSingle());
        }
    }

    private readonly struct Lanes256 : ILanes<Vector256<float>>
    {
        public static int Count => Vector256<float>.Count;
        public static Vector256<float> Zero => Vector256<float>.Zero;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load(ref float p, nuint i) => Vector256.LoadUnsafe(ref p, i);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
        public static float Sum(Vector256<float> v) => Vector256.Sum(v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<float>, Vector256<float>) LoadHalves(ref short p, nuint i)
        {
            var pair = Vector256.LoadUnsafe(ref p, i).AsInt32();
            var mask = Vector256.Create(HalfBitsMask);
            return ((Vector256.ShiftRightArithmetic(Vector256.ShiftLeft(pair, 16), 3) & mask).AsSingle(),
                    (Vector256.ShiftRightArithmetic(pair, 3) & mask).AsSingle());
        }
    }
}
