using Reid.Core;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.TestSupport;

namespace Reid.Engine.Tests.Modules;

public class ManagedOpTests
{
    [Fact]
    public void Linear_and_matmul_forward_and_backward()
    {
        var rng = new Rng(41);
        var x = Reference.Random(rng, 5, 7);
        var w = Reference.Random(rng, 3, 7);
        var b = Reference.Random(rng, 3);
        using var y = Ops.Linear(x, w, b);
        var expected = new double[15];
        for (var i = 0; i < 5; i++)
            for (var j = 0; j < 3; j++)
            {
                double acc = b.Data[j];
                for (var k = 0; k < 7; k++) acc += (double)x.Data[i * 7 + k] * w.Data[j * 7 + k];
                expected[i * 3 + j] = acc;
            }
        Reference.AssertClose(expected, y.Data, 1e-5, 1e-5, "linear");
        Reference.GradCheck(t => Ops.Linear(t[0], t[1], t[2]), [x, w, b]);

        var a = Reference.Random(rng, 4, 6);
        var bm = Reference.Random(rng, 6, 5);
        var bt = Reference.Random(rng, 5, 6);
        Reference.GradCheck(t => Ops.MatMul(t[0], t[1]), [a, bm]);
        Reference.GradCheck(t => Ops.MatMul(t[0], t[1], transposeB: true), [a, bt]);
        using var ab = Ops.MatMul(a, bt, transposeB: true);
        Assert.Equal((double)Enumerable.Range(0, 6).Sum(k => (double)a.Data[6 + k] * bt.Data[2 * 6 + k]), ab.Data[1 * 5 + 2], 4);
    }

    [Bf16Fact]
    public void Bf16_linear_is_close_to_f32()
    {
        var rng = new Rng(42);
        using var x = Reference.Random(rng, 16, 64);
        using var w = Tensor.RandomNormal(rng, 0, 0.1f, 32, 64);
        using var y32 = Ops.Linear(x, w, null);
        using (Precision.Use(ComputePrecision.BF16))
        {
            using var y16 = Ops.Linear(x, w, null);
            Reference.AssertClose(y32.Data, y16.Data, 0.05, 0.02, "bf16 linear");
        }
    }

    [Fact]
    public void Add_sub_scale_sum_mean()
    {
        var rng = new Rng(43);
        var a = Reference.Random(rng, 2, 3, 4);
        var b = Reference.Random(rng, 2, 3, 4);
        using var s = Ops.Add(a, b);
        Assert.Equal(a.Data[5] + b.Data[5], s.Data[5]);
        Reference.GradCheck(t => Ops.Add(t[0], t[1]), [a, b]);
        Reference.GradCheck(t => Ops.Sub(t[0], t[1]), [a, b]);
        Reference.GradCheck(t => Ops.Scale(t[0], -2.5f), [a]);
        Reference.GradCheck(t => Ops.Sum(t[0]), [a]);
        Reference.GradCheck(t => Ops.Mean(t[0]), [a]);
        using var m = Ops.Mean(a);
        Assert.Equal(a.ToArray().Average(), m.Item(), 5);
        using var x = Tensor.Zeros(2, 3);
        Assert.Throws<ReidException>(() => Ops.Add(a, x));
    }

    [Fact]
    public void Mul_broadcasts_channel_gates()
    {
        var rng = new Rng(44);
        var x = Reference.Random(rng, 2, 3, 4, 5);
        var gate = Reference.Random(rng, 2, 3, 1, 1);
        var shared = Reference.Random(rng, 1, 3, 1, 1);
        using var y = Ops.Mul(x, gate);
        Assert.Equal(x.Data[(1 * 3 + 2) * 20 + 7] * gate.Data[1 * 3 + 2], y.Data[(1 * 3 + 2) * 20 + 7]);
        using var y2 = Ops.Mul(x, shared);
        Assert.Equal(x.Data[(1 * 3 + 2) * 20 + 7] * shared.Data[2], y2.Data[(1 * 3 + 2) * 20 + 7]);
        Reference.GradCheck(t => Ops.Mul(t[0], t[1]), [x, gate]);
        Reference.GradCheck(t => Ops.Mul(t[0], t[1]), [x, shared]);
        Reference.GradCheck(t => Ops.Mul(t[0], t[1]), [x, Reference.Random(rng, 2, 3, 4, 5)]);
        using var bad = Tensor.Zeros(2, 4, 1, 1);
        var e = Assert.Throws<ReidException>(() => Ops.Mul(x, bad));
        Assert.Contains("Mul", e.Message);
    }

    [Fact]
    public void Concat_along_channels()
    {
        var rng = new Rng(45);
        var a = Reference.Random(rng, 2, 3, 2, 2);
        var b = Reference.Random(rng, 2, 1, 2, 2);
        using var y = Ops.Concat(1, a, b);
        Assert.Equal([2, 4, 2, 2], y.ShapeArray());
        Assert.Equal(b.Data[4 + 3], y.Data[(1 * 4 + 3) * 4 + 3]);
        Assert.Equal(a.Data[(1 * 3 + 2) * 4 + 1], y.Data[(1 * 4 + 2) * 4 + 1]);
        Reference.GradCheck(t => Ops.Concat(1, t[0], t[1]), [a, b]);
        using var bad = Tensor.Zeros(3, 1, 2, 2);
        Assert.Throws<ReidException>(() => Ops.Concat(1, a, bad));
    }

    [Fact]
    public void Slice_takes_rows_of_a_map_and_scatters_the_gradient_back()
    {
        var rng = new Rng(46);
        var x = Reference.Random(rng, 2, 3, 5, 2);
        using var y = Ops.Slice(x, 2, 1, 4);
        Assert.Equal([2, 3, 3, 2], y.ShapeArray());
        // y[n,c,r,w] = x[n,c,r+1,w]
        Assert.Equal(x.Data[((1 * 3 + 2) * 5 + 1 + 2) * 2 + 1], y.Data[((1 * 3 + 2) * 3 + 2) * 2 + 1]);
        Assert.Equal(x.Data[((0 * 3 + 0) * 5 + 1) * 2], y.Data[0]);
        Reference.GradCheck(t => Ops.Slice(t[0], 2, 1, 4), [x]);
        Reference.GradCheck(t => Ops.Slice(t[0], 1, 2, 3), [x]);
        Assert.Throws<ReidException>(() => Ops.Slice(x, 2, 3, 3));
        Assert.Throws<ReidException>(() => Ops.Slice(x, 2, 0, 6));
    }

    [Fact]
    public void Flatten_reshape_l2_softmax_logsoftmax()
    {
        var rng = new Rng(46);
        var x = Reference.Random(rng, 3, 2, 2, 2);
        using var f = Ops.Flatten(x);
        Assert.Equal([3, 8], f.ShapeArray());
        Reference.GradCheck(t => Ops.Flatten(t[0]), [x]);
        Reference.GradCheck(t => t[0].Reshape(2, -1), [x]);
        Assert.Throws<ReidException>(() => x.Reshape(5, -1));

        var v = Reference.Random(rng, 4, 6);
        using var n = Ops.L2Normalize(v);
        for (var r = 0; r < 4; r++)
            Assert.Equal(1.0, Math.Sqrt(n.Data.Slice(r * 6, 6).ToArray().Sum(e => (double)e * e)), 5);
        Reference.GradCheck(t => Ops.L2Normalize(t[0]), [v]);

        using var sm = Ops.Softmax(v);
        using var lsm = Ops.LogSoftmax(v);
        for (var r = 0; r < 4; r++)
        {
            var row = v.Data.Slice(r * 6, 6).ToArray().Select(e => (double)e).ToArray();
            var z = row.Sum(Math.Exp);
            for (var j = 0; j < 6; j++)
            {
                Assert.Equal(Math.Exp(row[j]) / z, sm.Data[r * 6 + j], 5);
                Assert.Equal(row[j] - Math.Log(z), lsm.Data[r * 6 + j], 5);
            }
        }
        Reference.GradCheck(t => Ops.Softmax(t[0]), [v]);
        Reference.GradCheck(t => Ops.LogSoftmax(t[0]), [v]);
    }

    [Fact]
    public void Dropout_scales_kept_values_and_is_identity_in_eval()
    {
        var rng = new Rng(47);
        using var x = Tensor.Ones(1000);
        using var y = Ops.Dropout(x, 0.25f, training: true, new Rng(1));
        var kept = y.ToArray().Count(v => v != 0);
        Assert.InRange(kept, 680, 820);
        Assert.All(y.ToArray().Where(v => v != 0), v => Assert.Equal(1f / 0.75f, v, 5));
        using var e = Ops.Dropout(x, 0.25f, training: false);
        Assert.Equal(x.ToArray(), e.ToArray());
        // Same mask in every evaluation: a fixed seed per call.
        var z = Reference.Random(rng, 40);
        Reference.GradCheck(t => Ops.Dropout(t[0], 0.5f, true, new Rng(9)), [z]);
    }
}
