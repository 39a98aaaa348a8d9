using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Native;
using Reid.Engine.Tensors;
using Reid.TestSupport;

namespace Reid.Engine.Tests.Modules;

/// <summary>
/// Under bf16 precision convolutions write bf16 activations that BN, ReLU, pooling and residual Add keep in
/// bf16; gradients flow back in bf16 too. These compare a residual block against the f32 run.
/// </summary>
public class Bf16ActivationTests
{
    [Fact]
    public void Memory_descriptor_data_type_is_read_at_the_measured_offset()
    {
        Assert.Equal(Dnnl.BF16, DnnlRuntime.DataType(DnnlRuntime.PlainDesc([2, 3, 4, 5], Dnnl.BF16)));
        Assert.Equal(Dnnl.F32, DnnlRuntime.DataType(DnnlRuntime.PlainDesc([7], Dnnl.F32)));
    }

    [Bf16Fact]
    public void Conv_output_is_bf16_under_bf16_and_reads_back_as_f32()
    {
        var rng = new Rng(21);
        using var x = Tensor.RandomNormal(rng, 0, 1, 2, 16, 8, 8);
        using var w = Tensor.RandomNormal(rng, 0, 0.1f, 16, 16, 3, 3);
        using (Precision.Use(ComputePrecision.BF16))
        {
            using var y = Ops.Conv2d(x, w, null, ConvSpec.Square(1, 1));
            Assert.True(y.IsBf16);
            var expected = Reference.Conv2d(x, w, null, ConvSpec.Square(1, 1));
            Reference.AssertClose(expected, y.Data, 0.05, 0.02, "bf16 conv read back");
            Assert.False(y.IsBf16); // converted to plain f32 on access
        }
        using var y32 = Ops.Conv2d(x, w, null, ConvSpec.Square(1, 1));
        Assert.False(y32.IsBf16);
    }

    private sealed record Result(float[] Y, float[] Gx, float[] Gw1, float[] Gw2, float[] Gamma);

    /// <summary>conv–BN–ReLU–conv–BN + identity, ReLU, max-pool: the ResNet block pattern.</summary>
    private static Result Block(ComputePrecision precision)
    {
        var rng = new Rng(22);
        var x = Tensor.RandomNormal(rng, 0, 1, 4, 16, 12, 8);
        x.RequiresGrad = true;
        var conv1 = new Conv2d(16, 16, 3, padding: 1, bias: false, rng: rng);
        var bn1 = new BatchNorm2d(16);
        var conv2 = new Conv2d(16, 16, 3, padding: 1, bias: false, rng: rng);
        var bn2 = new BatchNorm2d(16);
        using var ramp = Tensor.Empty(4, 16, 6, 4);
        var r = ramp.Data;
        for (var i = 0; i < r.Length; i++) r[i] = (i % 5 - 2) * 0.5f;
        using var scope = new TensorScope();
        using var p = Precision.Use(precision);
        var h = Ops.ReluInPlace(bn1.Forward(conv1.Forward(x)));
        var sum = Ops.Add(bn2.Forward(conv2.Forward(h)), x);
        var y = Ops.MaxPool2d(Ops.ReluInPlace(sum), 2, 2).Retain();
        Ops.Sum(Ops.Mul(y, ramp)).Backward();
        return new Result(y.ToArray(), x.Grad!.ToArray(), conv1.Weight.Grad!.ToArray(), conv2.Weight.Grad!.ToArray(), bn1.Weight.Grad!.ToArray());
    }

    private static double Rel(float[] a, float[] b) =>
        Math.Sqrt(a.Zip(b).Sum(q => Math.Pow(q.First - q.Second, 2)) / a.Sum(v => (double)v * v));

    [Bf16Fact]
    public void Residual_block_in_bf16_is_close_to_f32_forward_and_backward()
    {
        var f32 = Block(ComputePrecision.F32);
        var bf16 = Block(ComputePrecision.BF16);
        Assert.True(Rel(f32.Y, bf16.Y) < 2e-2, $"output relative error {Rel(f32.Y, bf16.Y)}");
        Assert.True(Rel(f32.Y, bf16.Y) > 0, "bf16 should differ from f32 (bf16 kernels not used?)");
        Assert.True(Rel(f32.Gx, bf16.Gx) < 3e-2, $"input gradient relative error {Rel(f32.Gx, bf16.Gx)}");
        Assert.True(Rel(f32.Gw1, bf16.Gw1) < 3e-2, $"conv1 weight gradient relative error {Rel(f32.Gw1, bf16.Gw1)}");
        Assert.True(Rel(f32.Gw2, bf16.Gw2) < 3e-2, $"conv2 weight gradient relative error {Rel(f32.Gw2, bf16.Gw2)}");
        Assert.True(Rel(f32.Gamma, bf16.Gamma) < 3e-2, $"BN scale gradient relative error {Rel(f32.Gamma, bf16.Gamma)}");
    }

    [Bf16Fact]
    public void A_slice_of_a_bf16_map_sends_its_gradient_back_in_bf16_so_the_backward_below_stays_bf16()
    {
        float[] Run(ComputePrecision precision, out bool bf16Gradient)
        {
            var rng = new Rng(24);
            var x = Tensor.RandomNormal(rng, 0, 1, 2, 16, 8, 4);
            var w = Tensor.RandomNormal(rng, 0, 0.1f, 16, 16, 1, 1);
            w.RequiresGrad = true;
            using var scope = new TensorScope();
            using var p = Precision.Use(precision);
            var y = Ops.Conv2d(x, w, null, ConvSpec.Square()).Retain();
            // The part-head pattern: the whole map pooled, and a stripe of it sliced.
            var loss = Ops.Add(Ops.Sum(Ops.GlobalAvgPool(y)), Ops.Sum(Ops.Mul(Ops.Slice(y, 2, 2, 6), Ops.Slice(y, 2, 2, 6))));
            loss.Backward();
            bf16Gradient = y.Grad!.IsBf16;
            return w.Grad!.ToArray();
        }
        var f32 = Run(ComputePrecision.F32, out var f32Bf16);
        var bf16 = Run(ComputePrecision.BF16, out var bf16Bf16);
        Assert.False(f32Bf16);
        Assert.True(bf16Bf16, "the map's gradient left bf16");
        Assert.True(Rel(f32, bf16) < 3e-2, $"weight gradient relative error {Rel(f32, bf16)}");
    }

    [Bf16Fact]
    public void Adding_bf16_to_f32_keeps_f32_and_is_exact_for_the_bf16_values()
    {
        var rng = new Rng(23);
        using var x = Tensor.RandomNormal(rng, 0, 1, 2, 16, 4, 4);
        using var w = Tensor.RandomNormal(rng, 0, 0.1f, 16, 16, 1, 1);
        using var f = Tensor.RandomNormal(rng, 0, 1, 2, 16, 4, 4);
        Tensor low;
        using (Precision.Use(ComputePrecision.BF16)) low = Ops.Conv2d(x, w, null, ConvSpec.Square());
        Assert.True(low.IsBf16);
        using var sum = Ops.Add(low, f);
        Assert.False(sum.IsBf16);
        var lowValues = low.ToArray();
        var expected = lowValues.Zip(f.ToArray(), (a, b) => a + b).ToArray();
        Assert.Equal(expected, sum.ToArray());
        low.Dispose();
    }

    /// <summary>
    /// Gate, global pooling and their gradients on a conv output; forcePlain makes the input plain first
    /// (managed ops). <paramref name="channels"/> not a multiple of 16 gives a channel-padded blocked layout;
    /// <paramref name="sharedGate"/> uses one [1,C,1,1] gate for the whole batch.
    /// </summary>
    private static (float[] Y, float[] Pool, float[] Gx, float[] Ggate) Gate(ComputePrecision precision, bool forcePlain,
        int channels = 16, bool sharedGate = false)
    {
        var rng = new Rng(24);
        using var x = Tensor.RandomNormal(rng, 0, 1, 2, channels, 6, 4);
        using var w = Tensor.RandomNormal(rng, 0, 0.2f, channels, channels, 1, 1);
        using var gate = Tensor.RandomUniform(rng, 0.1f, 1f, sharedGate ? 1 : 2, channels, 1, 1);
        x.RequiresGrad = true;
        gate.RequiresGrad = true;
        using var ramp = Tensor.Empty(2, channels, 6, 4);
        var r = ramp.Data;
        for (var i = 0; i < r.Length; i++) r[i] = (i % 3 - 1) * 0.5f;
        using var scope = new TensorScope();
        using var p = Precision.Use(precision);
        var a = Ops.Conv2d(x, w, null, ConvSpec.Square());
        if (!forcePlain) Assert.NotNull(a.Layout);
        if (forcePlain) a.EnsurePlain();
        var y = Ops.Mul(a, gate).Retain();
        var pool = Ops.GlobalAvgPool(a).Retain();
        var loss = Ops.Add(Ops.Sum(Ops.Mul(y, ramp)), Ops.Sum(Ops.Mul(pool, pool)));
        loss.Backward();
        return (y.ToArray(), pool.ToArray(), x.Grad!.ToArray(), gate.Grad!.ToArray());
    }

    [Theory]
    [InlineData(ComputePrecision.F32, 1e-5, 16, false)]
    [Bf16InlineData(ComputePrecision.BF16, 2e-2, 16, false)]
    [InlineData(ComputePrecision.F32, 1e-5, 24, true)]
    [Bf16InlineData(ComputePrecision.BF16, 2e-2, 24, true)]
    public void Channel_gate_and_global_pool_on_a_blocked_input_match_the_plain_computation(ComputePrecision precision, double tolerance,
        int channels, bool sharedGate)
    {
        var native = Gate(precision, forcePlain: false, channels, sharedGate);
        var plain = Gate(precision, forcePlain: true, channels, sharedGate);
        Assert.True(Rel(plain.Y, native.Y) < tolerance, $"gated output relative error {Rel(plain.Y, native.Y)}");
        Assert.True(Rel(plain.Pool, native.Pool) < tolerance, $"pooled relative error {Rel(plain.Pool, native.Pool)}");
        Assert.True(Rel(plain.Gx, native.Gx) < tolerance, $"input gradient relative error {Rel(plain.Gx, native.Gx)}");
        Assert.True(Rel(plain.Ggate, native.Ggate) < tolerance, $"gate gradient relative error {Rel(plain.Ggate, native.Ggate)}");
    }

    [Theory]
    [InlineData(ComputePrecision.F32)]
    [Bf16InlineData(ComputePrecision.BF16)]
    public void Channel_gate_and_global_pool_on_a_blocked_input_use_no_reference_kernels(ComputePrecision precision)
    {
        // oneDNN's reference binary/reduction kernels made OSNet's gates ~100x slower than a pass over memory.
        var before = DnnlPlan.Cached.ToHashSet();
        Gate(precision, forcePlain: false, channels: 32);
        var slow = DnnlPlan.Cached
            .Where(plan => !before.Contains(plan))
            .Where(plan => plan.Name.StartsWith("Binary", StringComparison.Ordinal) || plan.Name.StartsWith("Reduction", StringComparison.Ordinal)
                           || plan.Name.StartsWith("MatMul ones", StringComparison.Ordinal) || plan.Name.StartsWith("GlobalAvgPool", StringComparison.Ordinal))
            .Where(plan => plan.Implementation.StartsWith("ref", StringComparison.Ordinal))
            .Select(plan => $"{plan.Name}: {plan.Implementation}")
            .ToList();
        Assert.True(slow.Count == 0, string.Join("; ", slow));
    }
}
