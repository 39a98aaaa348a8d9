using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.TestSupport;

namespace Reid.Engine.Tests.Modules;

public class ConvTests
{
    public static TheoryData<int, int, int, int, int, int, int, bool> Cases => new()
    {
        // c, o, k, stride, pad, dilation, groups, bias
        { 3, 4, 3, 1, 1, 1, 1, true },
        { 4, 6, 3, 2, 1, 1, 1, false },
        { 4, 4, 3, 1, 2, 2, 1, true },
        { 4, 6, 1, 1, 0, 1, 2, false },
        { 6, 6, 3, 1, 1, 1, 6, false },   // depthwise
        { 5, 8, 5, 2, 2, 1, 1, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_naive_convolution(int c, int o, int k, int stride, int pad, int dil, int groups, bool bias)
    {
        var rng = new Rng(1);
        var spec = ConvSpec.Square(stride, pad, dil, groups);
        using var x = Reference.Random(rng, 2, c, 9, 7);
        using var w = Reference.Random(rng, o, c / groups, k, k);
        using var b = bias ? Reference.Random(rng, o) : null;
        using var y = Ops.Conv2d(x, w, b, spec);
        Assert.Equal([2, o, spec.OutH(9, k), spec.OutW(7, k)], y.ShapeArray());
        Reference.AssertClose(Reference.Conv2d(x, w, b, spec), y.Data, 1e-4, 1e-4, "conv");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_finite_differences(int c, int o, int k, int stride, int pad, int dil, int groups, bool bias)
    {
        var rng = new Rng(2);
        var spec = ConvSpec.Square(stride, pad, dil, groups);
        var x = Reference.Random(rng, 2, c, 9, 7);
        var w = Reference.Random(rng, o, c / groups, k, k);
        if (bias)
            Reference.GradCheck(t => Ops.Conv2d(t[0], t[1], t[2], spec), [x, w, Reference.Random(rng, o)]);
        else
            Reference.GradCheck(t => Ops.Conv2d(t[0], t[1], null, spec), [x, w]);
    }

    [Fact]
    public void Channel_mismatch_names_the_layer()
    {
        var conv = new Conv2d(3, 8, 3, padding: 1);
        using var x = Tensor.Zeros(1, 4, 8, 8);
        var e = Assert.Throws<ReidException>(() => conv.Forward(x));
        Assert.Contains("Conv2d", e.Message);
        Assert.Contains("[1, 4, 8, 8]", e.Message);
    }

    [Bf16Fact]
    public void Bf16_convolution_is_close_to_f32()
    {
        var rng = new Rng(3);
        using var x = Reference.Random(rng, 4, 32, 16, 8);
        using var w = Tensor.RandomNormal(rng, 0, 0.1f, 32, 32, 3, 3);
        using var y32 = Ops.Conv2d(x, w, null, ConvSpec.Square(1, 1));
        using (Precision.Use(ComputePrecision.BF16))
        {
            using var y16 = Ops.Conv2d(x, w, null, ConvSpec.Square(1, 1));
            double err = 0, norm = 0;
            for (var i = 0; i < y32.Count; i++)
            {
                err += Math.Pow(y32.Data[i] - y16.Data[i], 2);
                norm += Math.Pow(y32.Data[i], 2);
            }
            var rel = Math.Sqrt(err / norm);
            Assert.True(rel < 1e-2, $"relative error {rel}");
            Assert.True(rel > 0, "bf16 should not be bit-identical to f32 (bf16 kernels not used?)");
        }
    }
}

public class MixedPrecisionBackwardTests
{
    [Bf16Fact]
    public void Bf16_conv_gradients_are_close_to_f32()
    {
        var rng = new Rng(4);
        var x = Reference.Random(rng, 4, 32, 12, 6);
        var w = Tensor.RandomNormal(rng, 0, 0.1f, 48, 32, 3, 3);
        float[] Grads(ComputePrecision p, out float[] gw)
        {
            x.RequiresGrad = true; w.RequiresGrad = true; x.ZeroGrad(); w.ZeroGrad();
            using (Precision.Use(p))
            {
                var y = Ops.Relu(Ops.Conv2d(x, w, null, ConvSpec.Square(2, 1)));
                Ops.Mean(Ops.Mul(y, y)).Backward();
            }
            gw = w.Grad!.ToArray();
            return x.Grad!.ToArray();
        }
        var gx32 = Grads(ComputePrecision.F32, out var gw32);
        var gx16 = Grads(ComputePrecision.BF16, out var gw16);
        static double Rel(float[] a, float[] b) =>
            Math.Sqrt(a.Zip(b).Sum(p => Math.Pow(p.First - p.Second, 2)) / a.Sum(v => (double)v * v));
        Assert.True(Rel(gx32, gx16) < 2e-2, $"input gradient relative error {Rel(gx32, gx16)}");
        Assert.True(Rel(gw32, gw16) < 2e-2, $"weight gradient relative error {Rel(gw32, gw16)}");
    }
}
