using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Reid.Engine.Optim;

/// <summary>
/// The element-wise optimiser updates, vectorised with <see cref="Vector{T}"/> (AVX-512/AVX2 where the CPU has
/// them) and a scalar tail. Semantics follow PyTorch's torch.optim so recipes carry over unchanged.
/// </summary>
internal static class UpdateKernels
{
    /// <summary>SGD with coupled (L2) weight decay and optional heavy-ball or Nesterov momentum (no dampening).</summary>
    public static void Sgd(Span<float> w, ReadOnlySpan<float> g, Span<float> momentumBuffer,
        float lr, float momentum, float weightDecay, bool nesterov)
    {
        int n = w.Length, i = 0;
        CheckLengths(n, g.Length, momentum != 0 ? momentumBuffer.Length : n);
        if (momentum == 0)
        {
            if (Vector.IsHardwareAccelerated)
            {
                var vw = MemoryMarshal.Cast<float, Vector<float>>(w);
                var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
                for (int k = 0; k < vw.Length; k++) vw[k] -= lr * (vg[k] + weightDecay * vw[k]);
                i = vw.Length * Vector<float>.Count;
            }
            for (; i < n; i++) w[i] -= lr * (g[i] + weightDecay * w[i]);
            return;
        }
        if (Vector.IsHardwareAccelerated)
        {
            var vw = MemoryMarshal.Cast<float, Vector<float>>(w);
            var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(momentumBuffer);
            for (int k = 0; k < vw.Length; k++)
            {
                var d = vg[k] + weightDecay * vw[k];
                var b = momentum * vb[k] + d;
                vb[k] = b;
                vw[k] -= lr * (nesterov ? d + momentum * b : b);
            }
            i = vw.Length * Vector<float>.Count;
        }
        for (; i < n; i++)
        {
            var d = g[i] + weightDecay * w[i];
            var b = momentum * momentumBuffer[i] + d;
            momentumBuffer[i] = b;
            w[i] -= lr * (nesterov ? d + momentum * b : b);
        }
    }

    /// <summary>
    /// Adam step <paramref name="step"/> (1-based). <paramref name="l2"/> is Adam's coupled weight decay (added to
    /// the gradient); <paramref name="decoupled"/> is AdamW's (w ← w·(1 − lr·wd) before the update).
    /// </summary>
    public static void Adam(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float lr, float beta1, float beta2, float eps, float l2, float decoupled, long step)
    {
        int n = w.Length, i = 0;
        CheckLengths(n, g.Length, m.Length);
        CheckLengths(n, v.Length, n);
        float bc1 = 1 - MathF.Pow(beta1, step), bc2 = 1 - MathF.Pow(beta2, step);
        float stepSize = lr / bc1, invSqrtBc2 = 1 / MathF.Sqrt(bc2), shrink = 1 - lr * decoupled;
        float a1 = 1 - beta1, a2 = 1 - beta2;
        if (Vector.IsHardwareAccelerated)
        {
            var vw = MemoryMarshal.Cast<float, Vector<float>>(w);
            var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
            var vm = MemoryMarshal.Cast<float, Vector<float>>(m);
            var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
            for (int k = 0; k < vw.Length; k++)
            {
                var wk = vw[k] * shrink;
                var gk = vg[k] + l2 * vw[k];
                var mk = beta1 * vm[k] + a1 * gk;
                var vk = beta2 * vv[k] + a2 * gk * gk;
                vm[k] = mk; vv[k] = vk;
                vw[k] = wk - stepSize * mk / (Vector.SquareRoot(vk) * invSqrtBc2 + new Vector<float>(eps));
            }
            i = vw.Length * Vector<float>.Count;
        }
        for (; i < n; i++)
        {
            var wk = w[i] * shrink;
            var gk = g[i] + l2 * w[i];
            var mk = beta1 * m[i] + a1 * gk;
            var vk = beta2 * v[i] + a2 * gk * gk;
            m[i] = mk; v[i] = vk;
            w[i] = wk - stepSize * mk / (MathF.Sqrt(vk) * invSqrtBc2 + eps);
        }
    }

    /// <summary>Σ g², accumulated in double so a large model's norm does not lose precision.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> g)
    {
        double total = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
            const int Chunk = 4096;
            for (int start = 0; start < vg.Length; start += Chunk)
            {
                var acc = Vector<float>.Zero;
                int end = Math.Min(vg.Length, start + Chunk);
                for (int k = start; k < end; k++) acc += vg[k] * vg[k];
                total += Vector.Sum(acc);
            }
            i = vg.Length * Vector<float>.Count;
        }
        for (; i < g.Length; i++) total += (double)g[i] * g[i];
        return total;
    }

    public static void Scale(Span<float> x, float factor)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            for (int k = 0; k < vx.Length; k++) vx[k] *= factor;
            i = vx.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++) x[i] *= factor;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckLengths(int a, int b, int c)
    {
        if (a != b || a != c) throw new ArgumentException($"optimiser buffers differ in length ({a}, {b}, {c})");
    }
}
