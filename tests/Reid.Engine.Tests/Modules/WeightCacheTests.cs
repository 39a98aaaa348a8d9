using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Optim;
using Reid.Engine.Tensors;
using Reid.TestSupport;

namespace Reid.Engine.Tests.Modules;

/// <summary>
/// Convolutions keep a parameter's weights converted to the primitive's layout (bf16 blocked) between steps.
/// These check that the copy is reused while the values are unchanged and never used after they change.
/// </summary>
public class WeightCacheTests
{
    private static readonly ConvSpec Spec = ConvSpec.Square(1, 1);

    /// <summary>Forward output and input gradient of the layer on x, with a loss that weights every output differently.</summary>
    private static (float[] Y, float[] Gx) Step(Func<Tensor, Tensor> conv, Tensor x)
    {
        x.ZeroGrad();
        x.RequiresGrad = true;
        using var scope = new TensorScope();
        var y = conv(x).Retain();
        using var ramp = Tensor.Empty(y.ShapeArray());
        var r = ramp.Data;
        for (var i = 0; i < r.Length; i++) r[i] = (i % 7 - 3) * 0.25f;
        Ops.Sum(Ops.Mul(y, ramp)).Backward();
        return (y.ToArray(), x.Grad!.ToArray());
    }

    /// <summary>The same convolution on a plain tensor copy of the weights (no cache: converted afresh).</summary>
    private static (float[] Y, float[] Gx) Uncached(Conv2d layer, Tensor x)
    {
        using var w = Tensor.FromArray(layer.Weight.Data, layer.Weight.ShapeArray());
        return Step(t => Ops.Conv2d(t, w, null, Spec), x);
    }

    private static Conv2d Layer(Rng rng) => new(32, 48, 3, padding: 1, bias: false, rng: rng);

    [Theory]
    [Bf16InlineData(ComputePrecision.BF16)]
    [InlineData(ComputePrecision.F32)]
    public void Step_after_an_sgd_update_uses_the_new_weights(ComputePrecision precision)
    {
        var rng = new Rng(11);
        var layer = Layer(rng);
        using var x = Tensor.RandomNormal(rng, 0, 1, 2, 32, 10, 6);
        var sgd = new Sgd([new ParameterGroup("all", ModelParameters.Of(layer), 0.5)], momentum: 0);
        using (Precision.Use(precision))
        {
            var before = Step(layer.Forward, x);
            Assert.Equal(before.Y, Uncached(layer, x).Y);
            sgd.Step();
            layer.ZeroGrad();
            var after = Step(layer.Forward, x);
            var fresh = Uncached(layer, x);
            Assert.NotEqual(before.Y, after.Y);
            Assert.Equal(fresh.Y, after.Y);
            Assert.Equal(fresh.Gx, after.Gx);
        }
    }

    [Bf16Fact]
    public void Unchanged_weights_are_converted_once_for_many_steps()
    {
        var rng = new Rng(12);
        var layer = Layer(rng);
        using var x = Tensor.RandomNormal(rng, 0, 1, 2, 32, 10, 6);
        using (Precision.Use(ComputePrecision.BF16))
        {
            Step(layer.Forward, x);
            var afterFirst = layer.Weight.Conversions;
            Assert.InRange(afterFirst, 1, 2); // forward and backward-data may want different blocked layouts
            Step(layer.Forward, x);
            Step(layer.Forward, x);
            Assert.Equal(afterFirst, layer.Weight.Conversions);
            layer.ZeroGrad();
        }
    }

    [Bf16Fact]
    public void CopyFrom_invalidates_the_converted_weights()
    {
        var rng = new Rng(13);
        var layer = Layer(rng);
        using var x = Tensor.RandomNormal(rng, 0, 1, 2, 32, 10, 6);
        using (Precision.Use(ComputePrecision.BF16))
        {
            var before = Step(layer.Forward, x);
            using var other = Tensor.RandomNormal(rng, 0, 0.05f, layer.Weight.ShapeArray());
            layer.Weight.CopyFrom(other.Data);
            layer.ZeroGrad();
            var after = Step(layer.Forward, x);
            Assert.NotEqual(before.Y, after.Y);
            var fresh = Uncached(layer, x);
            Assert.Equal(fresh.Y, after.Y);
            Assert.Equal(fresh.Gx, after.Gx);
        }
    }

    [Bf16Fact]
    public void LoadStateDict_invalidates_the_converted_weights()
    {
        var rng = new Rng(14);
        var layer = Layer(rng);
        var source = Layer(new Rng(99));
        using var x = Tensor.RandomNormal(rng, 0, 1, 2, 32, 10, 6);
        using (Precision.Use(ComputePrecision.BF16))
        {
            var before = Step(layer.Forward, x);
            layer.LoadStateDict(source.StateDict().ToDictionary(kv => kv.Key, kv => (kv.Value.ShapeArray(), kv.Value.ToArray())));
            var after = Step(layer.Forward, x);
            var expected = Step(source.Forward, x);
            Assert.NotEqual(before.Y, after.Y);
            Assert.Equal(expected.Y, after.Y);
            Assert.Equal(expected.Gx, after.Gx);
        }
    }

    [Bf16Fact]
    public void Grouped_weights_are_cached_in_their_group_layout()
    {
        var rng = new Rng(15);
        var layer = new Conv2d(32, 32, 3, padding: 1, groups: 32, bias: false, rng: rng);
        using var x = Tensor.RandomNormal(rng, 0, 1, 2, 32, 10, 6);
        using (Precision.Use(ComputePrecision.BF16))
        {
            var cached = Step(layer.Forward, x);
            using var w = Tensor.FromArray(layer.Weight.Data, layer.Weight.ShapeArray());
            var fresh = Step(t => Ops.Conv2d(t, w, null, ConvSpec.Square(1, 1, groups: 32)), x);
            Assert.Equal(fresh.Y, cached.Y);
            Assert.Equal(fresh.Gx, cached.Gx);
        }
    }
}
