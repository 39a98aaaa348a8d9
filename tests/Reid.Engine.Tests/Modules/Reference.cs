using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;

namespace Reid.Engine.Tests.Modules;

/// <summary>Naive double-precision references and a finite-difference gradient checker.</summary>
internal static class Reference
{
    public static Tensor Random(Rng rng, params int[] shape) => Tensor.RandomNormal(rng, 0, 1, shape);

    /// <summary>Random values kept at least <paramref name="gap"/> away from zero (kinks of ReLU-like ops).</summary>
    public static Tensor AwayFromZero(Rng rng, float gap, params int[] shape)
    {
        var t = Random(rng, shape);
        var d = t.Data;
        for (var i = 0; i < d.Length; i++) d[i] = d[i] >= 0 ? d[i] + gap : d[i] - gap;
        return t;
    }

    /// <summary>Distinct values (a shuffled grid) so max-pooling has no ties.</summary>
    public static Tensor Distinct(Rng rng, params int[] shape)
    {
        var t = Tensor.Empty(shape);
        var d = t.Data;
        for (var i = 0; i < d.Length; i++) d[i] = (i - d.Length / 2) * 0.1f;
        for (var i = d.Length - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (d[i], d[j]) = (d[j], d[i]);
        }
        return t;
    }

    public static double[] Conv2d(Tensor x, Tensor w, Tensor? b, ConvSpec s)
    {
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), wd = x.Dim(3), o = w.Dim(0), kh = w.Dim(2), kw = w.Dim(3);
        int oh = s.OutH(h, kh), ow = s.OutW(wd, kw), cg = c / s.Groups, og = o / s.Groups;
        var y = new double[n * o * oh * ow];
        var xd = x.ToArray(); var wdt = w.ToArray(); var bd = b?.ToArray();
        for (var ni = 0; ni < n; ni++)
        for (var oi = 0; oi < o; oi++)
        {
            var g = oi / og;
            for (var yi = 0; yi < oh; yi++)
            for (var xi = 0; xi < ow; xi++)
            {
                double acc = bd?[oi] ?? 0;
                for (var ci = 0; ci < cg; ci++)
                for (var ky = 0; ky < kh; ky++)
                for (var kx = 0; kx < kw; kx++)
                {
                    var iy = yi * s.StrideH - s.PadH + ky * s.DilationH;
                    var ix = xi * s.StrideW - s.PadW + kx * s.DilationW;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                    acc += (double)xd[((ni * c + g * cg + ci) * h + iy) * wd + ix] * wdt[((oi * cg + ci) * kh + ky) * kw + kx];
                }
                y[((ni * o + oi) * oh + yi) * ow + xi] = acc;
            }
        }
        return y;
    }

    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var diff = Math.Abs(expected[i] - actual[i]);
            if (diff > atol + rtol * Math.Abs(expected[i]))
                Assert.Fail($"{what}: element {i} expected {expected[i]:G6} got {actual[i]:G6} (diff {diff:G3})");
        }
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what)
    {
        var e = new double[expected.Length];
        for (var i = 0; i < e.Length; i++) e[i] = expected[i];
        AssertClose(e, actual, atol, rtol, what);
    }

    /// <summary>
    /// Compares the tape's gradients of L = Σ f(inputs) ⊙ R (R fixed random) with central differences, on up
    /// to <paramref name="samples"/> elements per input.
    /// </summary>
    public static void GradCheck(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-2, double atol = 2e-3, double rtol = 2e-2, int samples = 40, int seed = 7)
    {
        var rng = new Rng((ulong)seed);
        foreach (var t in inputs) { t.RequiresGrad = true; t.ZeroGrad(); }
        var y = f(inputs);
        var r = Random(rng, y.ShapeArray());
        var loss = Ops.Sum(Ops.Mul(y, r));
        loss.Backward();
        for (var k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            Assert.True(x.Grad is not null, $"input {k} got no gradient");
            var analytic = x.Grad!.ToArray();
            var idx = Enumerable.Range(0, x.Count).ToArray();
            if (idx.Length > samples) idx = idx.OrderBy(_ => rng.NextUInt64()).Take(samples).ToArray();
            foreach (var i in idx)
            {
                var orig = x.Data[i];
                x.Data[i] = (float)(orig + eps);
                var plus = Eval(f, inputs, r);
                x.Data[i] = (float)(orig - eps);
                var minus = Eval(f, inputs, r);
                x.Data[i] = orig;
                var numeric = (plus - minus) / (2 * eps);
                var diff = Math.Abs(numeric - analytic[i]);
                if (diff > atol + rtol * Math.Abs(numeric))
                    Assert.Fail($"input {k} element {i}: analytic {analytic[i]:G6} numeric {numeric:G6}");
            }
        }
    }

    private static double Eval(Func<Tensor[], Tensor> f, Tensor[] inputs, Tensor r)
    {
        using var _ = Tape.NoGrad();
        using var y = f(inputs);
        double s = 0;
        var yd = y.Data; var rd = r.Data;
        for (var i = 0; i < yd.Length; i++) s += (double)yd[i] * rd[i];
        return s;
    }
}
