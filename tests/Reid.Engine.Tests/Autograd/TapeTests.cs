using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;

namespace Reid.Engine.Tests.Autograd;

public class TapeTests
{
    [Fact]
    public void Shared_input_accumulates_gradients_from_both_paths()
    {
        var x = Tensor.FromArray([1f, 2f, 3f], 3);
        x.RequiresGrad = true;
        // L = Σ (x·x + 3x) → dL/dx = 2x + 3
        var y = Ops.Add(Ops.Mul(x, x), Ops.Scale(x, 3));
        Ops.Sum(y).Backward();
        Assert.Equal([5f, 7f, 9f], x.Grad!.ToArray());
    }

    [Fact]
    public void Leaf_gradients_accumulate_across_backward_calls_until_zero_grad()
    {
        var x = Tensor.FromArray([1f, -1f], 2);
        x.RequiresGrad = true;
        Ops.Sum(Ops.Scale(x, 2)).Backward();
        Ops.Sum(Ops.Scale(x, 2)).Backward();
        Assert.Equal([4f, 4f], x.Grad!.ToArray());
        x.ZeroGrad();
        Assert.Null(x.Grad);
    }

    [Fact]
    public void NoGrad_records_nothing()
    {
        var x = Tensor.FromArray([1f, 2f], 2);
        x.RequiresGrad = true;
        Tensor y;
        using (Tape.NoGrad())
        {
            Assert.False(Tape.IsGradEnabled);
            y = Ops.Scale(x, 2);
        }
        Assert.True(Tape.IsGradEnabled);
        Assert.True(y.IsLeaf);
        Assert.Throws<ReidException>(() => y.Backward());
    }

    [Fact]
    public void Intermediates_are_released_after_backward_unless_retained()
    {
        var x = Tensor.FromArray([1f, 2f], 2);
        x.RequiresGrad = true;
        var h = Ops.Scale(x, 2);
        var kept = Ops.Scale(h, 3).Retain();
        var loss = Ops.Sum(Ops.Mul(kept, kept));
        loss.Backward();
        Assert.True(h.IsReleased);
        var e = Assert.Throws<ReidException>(() => h.ToArray());
        Assert.Contains("Retain()", e.Message);
        Assert.False(kept.IsReleased);
        Assert.Equal([12f, 24f], kept.Grad!.ToArray());   // d(Σk²)/dk = 2k, k = 6x
        Assert.Equal(6f * 6 * 2 * 1 + 0, x.Grad!.ToArray()[0]); // dL/dx = 2·k·6 = 72x
        Assert.Equal(36f * (1 + 4), loss.Item());
        Assert.False(x.IsReleased);
    }

    [Fact]
    public void Custom_op_records_a_backward_closure()
    {
        // Cube as a custom op: forward with plain span code, backward closure 3x²·g.
        static Tensor Cube(Tensor x)
        {
            var y = Tensor.Empty(x.ShapeArray());
            for (var i = 0; i < x.Count; i++) y.Data[i] = x.Data[i] * x.Data[i] * x.Data[i];
            return Tape.Record("Cube", y, [x], g =>
            {
                var gx = Tensor.Empty(x.ShapeArray());
                for (var i = 0; i < x.Count; i++) gx.Data[i] = 3 * x.Data[i] * x.Data[i] * g.Data[i];
                return [gx];
            });
        }
        var x = Tensor.FromArray([1f, -2f, 0.5f], 3);
        x.RequiresGrad = true;
        Ops.Sum(Cube(x)).Backward();
        Assert.Equal([3f, 12f, 0.75f], x.Grad!.ToArray());
    }

    [Fact]
    public void Backward_of_non_scalar_needs_a_gradient()
    {
        var x = Tensor.FromArray([1f, 2f], 2);
        x.RequiresGrad = true;
        var y = Ops.Scale(x, 2);
        Assert.Throws<ReidException>(() => y.Backward());
        using var g = Tensor.FromArray([1f, 10f], 2);
        y.Backward(g);
        Assert.Equal([2f, 20f], x.Grad!.ToArray());
    }

    [Fact]
    public void Trace_lists_ops_with_attributes_and_parameters()
    {
        var conv = new Conv2d(3, 4, 3, stride: 2, padding: 1, bias: false);
        var bn = new BatchNorm2d(4);
        using var x = Tensor.Zeros(1, 3, 8, 8);
        using var trace = new OpTrace();
        var y = Ops.Relu(bn.Forward(conv.Forward(x)));
        Assert.Equal(["Conv", "BatchNormalization", "Relu"], trace.Ops.Select(o => o.Op).ToArray());
        var c = trace.Ops[0];
        Assert.Same(conv.Weight, c.Inputs[1]);
        Assert.Equal(new[] { 2, 2 }, (int[])c.Attributes["strides"]);
        Assert.Equal(new[] { 1, 1, 1, 1 }, (int[])c.Attributes["pads"]);
        Assert.Equal(1, (int)c.Attributes["group"]);
        Assert.Same(trace.Ops[1].Output, trace.Ops[2].Inputs[0]);
        Assert.Same(y, trace.Ops[2].Output);
    }
}
