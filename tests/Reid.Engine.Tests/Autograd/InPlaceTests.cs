using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.TestSupport;

namespace Reid.Engine.Tests.Autograd;

public class InPlaceTests
{
    private static (float[] Y, float[] Gx, float[] Gw) Run(bool inPlace)
    {
        var rng = new Rng(8);
        var x = Tensor.RandomNormal(rng, 0, 1, 2, 16, 6, 4);
        var w = Tensor.RandomNormal(rng, 0, 0.2f, 16, 16, 3, 3);
        x.RequiresGrad = true;
        w.RequiresGrad = true;
        var bn = new BatchNorm2d(16);
        var h = bn.Forward(Ops.Conv2d(x, w, null, ConvSpec.Square(1, 1)));
        var y = inPlace ? Ops.ReluInPlace(h) : Ops.Relu(h);
        var z = Ops.Conv2d(y, w, null, ConvSpec.Square(1, 1)).Retain();
        Ops.Mean(Ops.Mul(z, z)).Backward();
        return (z.ToArray(), x.Grad!.ToArray(), w.Grad!.ToArray());
    }

    [Fact]
    public void In_place_relu_gives_the_same_values_and_gradients()
    {
        var a = Run(false);
        var b = Run(true);
        Assert.Equal(a.Y, b.Y);
        Assert.Equal(a.Gx, b.Gx);
        Assert.Equal(a.Gw, b.Gw);
    }

    /// <summary>A bottleneck-style residual block: conv–BN, + identity, ReLU (ResNet's block ending).</summary>
    private static (float[] Y, float[] Gx, float[] Gw, float[] Gg) RunResidual(bool inPlace, bool bf16)
    {
        var rng = new Rng(10);
        var x = Tensor.RandomNormal(rng, 0, 1, 2, 16, 6, 4);
        var w = Tensor.RandomNormal(rng, 0, 0.2f, 16, 16, 3, 3);
        x.RequiresGrad = true;
        w.RequiresGrad = true;
        var bn = new BatchNorm2d(16);
        using var precision = Precision.Use(bf16 ? ComputePrecision.BF16 : ComputePrecision.F32);
        var identity = Ops.Relu(Ops.Conv2d(x, w, null, ConvSpec.Square(1, 1)));
        var h = bn.Forward(Ops.Conv2d(identity, w, null, ConvSpec.Square(1, 1)));
        var y = inPlace ? Ops.ReluInPlace(Ops.AddInPlace(h, identity)) : Ops.Relu(Ops.Add(h, identity));
        var z = Ops.Conv2d(y, w, null, ConvSpec.Square(1, 1)).Retain();
        Ops.Mean(Ops.Mul(z, z)).Backward();
        return (z.ToArray(), x.Grad!.ToArray(), w.Grad!.ToArray(), bn.Parameters().First().Grad!.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [Bf16InlineData(true)]
    public void In_place_residual_sum_and_relu_give_the_same_values_and_gradients(bool bf16)
    {
        var a = RunResidual(false, bf16);
        var b = RunResidual(true, bf16);
        Assert.Equal(a.Y, b.Y);
        Assert.Equal(a.Gx, b.Gx);
        Assert.Equal(a.Gw, b.Gw);
        Assert.Equal(a.Gg, b.Gg);
    }

    [Fact]
    public void Using_an_overwritten_input_elsewhere_is_refused_in_backward()
    {
        var rng = new Rng(9);
        var x = Tensor.RandomNormal(rng, 0, 1, 2, 4, 3, 3);
        var w = Tensor.RandomNormal(rng, 0, 0.2f, 4, 4, 1, 1);
        w.RequiresGrad = true;
        var h = Ops.Conv2d(x, w, null, ConvSpec.Square());
        var other = Ops.Mul(h, h);          // Mul reads h in its backward
        var y = Ops.ReluInPlace(h);         // …then h is overwritten
        var e = Assert.Throws<ReidException>(() => Ops.Sum(Ops.Add(other, y)).Backward());
        Assert.Contains("in-place", e.Message);
    }
}
