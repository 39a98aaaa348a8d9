using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;

namespace Reid.Engine.Tests.Modules;

public class EltwiseTests
{
    private static double Ref(string op, double x) => op switch
    {
        "relu" => Math.Max(0, x),
        "relu6" => Math.Min(6, Math.Max(0, x)),
        "sigmoid" => 1 / (1 + Math.Exp(-x)),
        "leaky" => x > 0 ? x : 0.1 * x,
        "hardswish" => x * Math.Min(6, Math.Max(0, x + 3)) / 6,
        "gelu" => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        _ => throw new ArgumentException(op),
    };

    private static double Erf(double x)
    {
        // Abramowitz–Stegun 7.1.26 is too coarse for 1e-5; integrate instead (Simpson, fine grid).
        var n = 2000;
        var h = x / n;
        double s = 0;
        for (var i = 0; i <= n; i++)
        {
            var t = i * h;
            var wgt = i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2;
            s += wgt * Math.Exp(-t * t);
        }
        return 2 / Math.Sqrt(Math.PI) * s * h / 3;
    }

    private static Tensor Apply(string op, Tensor x) => op switch
    {
        "relu" => Ops.Relu(x),
        "relu6" => Ops.Relu6(x),
        "sigmoid" => Ops.Sigmoid(x),
        "leaky" => Ops.LeakyRelu(x, 0.1f),
        "hardswish" => Ops.Hardswish(x),
        "gelu" => Ops.Gelu(x),
        _ => throw new ArgumentException(op),
    };

    [Theory]
    [InlineData("relu")]
    [InlineData("relu6")]
    [InlineData("sigmoid")]
    [InlineData("leaky")]
    [InlineData("hardswish")]
    [InlineData("gelu")]
    public void Forward_and_backward(string op)
    {
        var rng = new Rng(11);
        // Spread values over [-8, 8] so ReLU6's upper clip and hardswish's ramps are exercised; keep away from kinks.
        using var x = Tensor.RandomUniform(rng, -8, 8, 2, 3, 4, 5);
        var d = x.Data;
        foreach (var kink in new[] { 0f, 6f, -3f, 3f })
            for (var i = 0; i < d.Length; i++)
                if (Math.Abs(d[i] - kink) < 0.05f) d[i] = kink + 0.1f;
        using var y = Apply(op, x);
        var expected = x.ToArray().Select(v => Ref(op, v)).ToArray();
        Reference.AssertClose(expected, y.Data, 1e-5, 1e-4, op);
        Reference.GradCheck(t => Apply(op, t[0]), [x]);
    }
}

public class BatchNormTests
{
    [Fact]
    public void Training_forward_normalises_with_batch_statistics_and_updates_running_stats()
    {
        var rng = new Rng(21);
        using var x = Tensor.RandomNormal(rng, 2, 3, 4, 3, 5, 2);
        var bn = new BatchNorm2d(3, momentum: 0.1f);
        Reference.Random(rng, 3).Data.CopyTo(bn.Weight.Data);
        Reference.Random(rng, 3).Data.CopyTo(bn.Bias.Data);
        using var y = bn.Forward(x);
        int n = 4, c = 3, hw = 10;
        var xd = x.ToArray();
        var expected = new double[xd.Length];
        for (var ci = 0; ci < c; ci++)
        {
            double sum = 0, sq = 0;
            for (var ni = 0; ni < n; ni++) for (var i = 0; i < hw; i++) sum += xd[(ni * c + ci) * hw + i];
            var mean = sum / (n * hw);
            for (var ni = 0; ni < n; ni++) for (var i = 0; i < hw; i++) sq += Math.Pow(xd[(ni * c + ci) * hw + i] - mean, 2);
            var var = sq / (n * hw);
            for (var ni = 0; ni < n; ni++)
                for (var i = 0; i < hw; i++)
                {
                    var k = (ni * c + ci) * hw + i;
                    expected[k] = (xd[k] - mean) / Math.Sqrt(var + 1e-5) * bn.Weight.Data[ci] + bn.Bias.Data[ci];
                }
            Assert.Equal(0.1 * mean, bn.RunningMean.Data[ci], 4);
            Assert.Equal(0.9 + 0.1 * var * (n * hw) / (n * hw - 1.0), bn.RunningVar.Data[ci], 4);
        }
        Reference.AssertClose(expected, y.Data, 1e-4, 1e-4, "bn train");
    }

    [Fact]
    public void Eval_uses_running_statistics()
    {
        var rng = new Rng(22);
        var bn = new BatchNorm2d(2);
        bn.RunningMean.Data[0] = 1; bn.RunningMean.Data[1] = -2;
        bn.RunningVar.Data[0] = 4; bn.RunningVar.Data[1] = 0.25f;
        bn.Weight.Data[1] = 3; bn.Bias.Data[0] = 0.5f;
        bn.Eval();
        using var x = Reference.Random(rng, 2, 2, 3, 3);
        using var y = bn.Forward(x);
        var xd = x.ToArray();
        var expected = new double[xd.Length];
        for (var i = 0; i < xd.Length; i++)
        {
            var c = i / 9 % 2;
            expected[i] = (xd[i] - bn.RunningMean.Data[c]) / Math.Sqrt(bn.RunningVar.Data[c] + 1e-5) * bn.Weight.Data[c] + bn.Bias.Data[c];
        }
        Reference.AssertClose(expected, y.Data, 1e-5, 1e-5, "bn eval");
        Assert.Equal(1f, bn.RunningMean.Data[0]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Backward_matches_finite_differences(bool training)
    {
        var rng = new Rng(23);
        var x = Reference.Random(rng, 3, 4, 3, 2);
        var gamma = Tensor.RandomUniform(rng, 0.5f, 1.5f, 4);
        var beta = Reference.Random(rng, 4);
        using var rm = Reference.Random(rng, 4);
        using var rv = Tensor.RandomUniform(rng, 0.5f, 2, 4);
        Reference.GradCheck(t => Ops.BatchNorm(t[0], t[1], t[2], rm, rv, training), [x, gamma, beta], eps: 1e-2, atol: 5e-3, rtol: 3e-2);
    }

    [Fact]
    public void BatchNorm1d_normalises_features()
    {
        var rng = new Rng(24);
        var x = Tensor.RandomNormal(rng, 5, 2, 8, 6);
        var bn = new BatchNorm1d(6);
        using var y = bn.Forward(x);
        for (var c = 0; c < 6; c++)
        {
            double m = 0;
            for (var n = 0; n < 8; n++) m += y.Data[n * 6 + c];
            Assert.Equal(0, m / 8, 4);
        }
        Reference.GradCheck(t => Ops.BatchNorm(t[0], bn.Weight, bn.Bias, bn.RunningMean, bn.RunningVar, true), [x], atol: 5e-3, rtol: 3e-2);
    }

    [Fact]
    public void Wrong_channel_count_is_a_clear_error()
    {
        var bn = new BatchNorm2d(8);
        using var x = Tensor.Zeros(2, 4, 3, 3);
        var e = Assert.Throws<ReidException>(() => bn.Forward(x));
        Assert.Contains("BatchNorm2d", e.Message);
    }
}

public class PoolTests
{
    private static double[] NaivePool(Tensor x, int k, int s, int p, bool max, bool includePad)
    {
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
        var xd = x.ToArray();
        var y = new double[n * c * oh * ow];
        for (var nc = 0; nc < n * c; nc++)
            for (var i = 0; i < oh; i++)
                for (var j = 0; j < ow; j++)
                {
                    double acc = max ? double.NegativeInfinity : 0;
                    var cnt = 0;
                    for (var a = 0; a < k; a++)
                        for (var b = 0; b < k; b++)
                        {
                            int yy = i * s - p + a, xx = j * s - p + b;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            var v = xd[(nc * h + yy) * w + xx];
                            acc = max ? Math.Max(acc, v) : acc + v;
                            cnt++;
                        }
                    y[(nc * oh + i) * ow + j] = max ? acc : acc / (includePad ? k * k : cnt);
                }
        return y;
    }

    [Theory]
    [InlineData(3, 2, 1)]
    [InlineData(2, 2, 0)]
    [InlineData(3, 1, 1)]
    public void MaxPool_forward_and_backward(int k, int s, int p)
    {
        var rng = new Rng(31);
        var x = Reference.Distinct(rng, 2, 3, 7, 6);
        using var y = Ops.MaxPool2d(x, k, s, p);
        Reference.AssertClose(NaivePool(x, k, s, p, true, false), y.Data, 1e-6, 0, "maxpool");
        Reference.GradCheck(t => Ops.MaxPool2d(t[0], k, s, p), [x], eps: 1e-3, atol: 1e-2);
    }

    [Theory]
    [InlineData(3, 2, 1, true)]
    [InlineData(3, 2, 1, false)]
    [InlineData(2, 2, 0, true)]
    public void AvgPool_forward_and_backward(int k, int s, int p, bool includePad)
    {
        var rng = new Rng(32);
        var x = Reference.Random(rng, 2, 3, 7, 6);
        using var y = Ops.AvgPool2d(x, k, s, p, includePad);
        Reference.AssertClose(NaivePool(x, k, s, p, false, includePad), y.Data, 1e-5, 1e-5, "avgpool");
        Reference.GradCheck(t => Ops.AvgPool2d(t[0], k, s, p, includePad), [x]);
    }

    [Fact]
    public void GlobalAvgPool_and_GeM()
    {
        var rng = new Rng(33);
        var x = Tensor.RandomUniform(rng, 0.1f, 2f, 2, 3, 4, 5);
        using var g = Ops.GlobalAvgPool(x);
        Assert.Equal([2, 3, 1, 1], g.ShapeArray());
        Reference.AssertClose(Means(x), g.Data, 1e-5, 1e-5, "gap");
        Reference.GradCheck(t => Ops.GlobalAvgPool(t[0]), [x]);

        var p = Tensor.Full(3f, 1);
        using var gem = Ops.GeM(x, p);
        var xd = x.ToArray();
        var expected = new double[6];
        for (var r = 0; r < 6; r++)
            expected[r] = Math.Pow(xd.Skip(r * 20).Take(20).Average(v => Math.Pow(v, 3)), 1.0 / 3);
        Reference.AssertClose(expected, gem.Data, 1e-5, 1e-5, "gem");
        Reference.GradCheck(t => Ops.GeM(t[0], t[1]), [x, p]);
    }

    private static double[] Means(Tensor x)
    {
        var xd = x.ToArray();
        var hw = x.Dim(2) * x.Dim(3);
        return Enumerable.Range(0, xd.Length / hw).Select(r => xd.Skip(r * hw).Take(hw).Average(v => (double)v)).ToArray();
    }

    [Fact]
    public void Kernel_larger_than_input_is_a_clear_error()
    {
        using var x = Tensor.Zeros(1, 1, 2, 2);
        var e = Assert.Throws<ReidException>(() => Ops.MaxPool2d(x, 3, 1));
        Assert.Contains("MaxPool2d", e.Message);
    }
}
