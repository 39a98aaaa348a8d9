using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Tensors;

namespace Reid.Engine.Functional;

/// <summary>
/// The differentiable operations of the engine, as functions of tensors. Layers (Conv2d, BatchNorm2d, …)
/// are thin modules holding parameters that call these. Each op checks its inputs (ReidException naming
/// the op and tensor), records itself on the tape when gradients are needed, and on the active
/// <see cref="OpTrace"/> with ONNX-like names and attributes.
/// </summary>
public static partial class Ops
{
    /// <summary>Same storage, new shape (one axis may be -1).</summary>
    public static Tensor Reshape(this Tensor x, params int[] shape)
    {
        var resolved = ResolveShape(x, shape);
        var y = x.ViewAs(resolved);
        var inShape = x.ShapeArray();
        OpTrace.Add("Reshape", y, [x], ("shape", resolved));
        return Tape.Record("Reshape", y, [x], g => [ViewCopy(g, inShape)]);
    }

    /// <summary>[N, ...] to [N, rest].</summary>
    public static Tensor Flatten(Tensor x, int startAxis = 1)
    {
        if (x.Rank < 1) throw new ReidException($"Flatten needs at least rank 1 but got {x.Describe()}");
        var a = x.NormalizeAxis(startAxis);
        var shape = new int[a + 1];
        for (var i = 0; i < a; i++) shape[i] = x.Dim(i);
        var rest = 1;
        for (var i = a; i < x.Rank; i++) rest *= x.Dim(i);
        shape[a] = rest;
        var y = x.ViewAs(shape);
        var inShape = x.ShapeArray();
        OpTrace.Add("Flatten", y, [x], ("axis", a));
        return Tape.Record("Flatten", y, [x], g => [ViewCopy(g, inShape)]);
    }

    private static Tensor ViewCopy(Tensor g, int[] shape)
    {
        var t = Tensor.Empty(shape);
        g.Data.CopyTo(t.Data);
        return t;
    }

    private static int[] ResolveShape(Tensor x, int[] shape)
    {
        var r = (int[])shape.Clone();
        var infer = -1;
        long known = 1;
        for (var i = 0; i < r.Length; i++)
        {
            if (r[i] == -1)
            {
                if (infer >= 0) throw new ReidException($"Reshape of {x.Describe()}: only one axis may be -1");
                infer = i;
            }
            else if (r[i] < 0) throw new ReidException($"Reshape of {x.Describe()}: bad size {r[i]}");
            else known *= r[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || x.Count % known != 0)
                throw new ReidException($"Reshape of {x.Describe()} to [{string.Join(", ", shape)}]: sizes do not divide");
            r[infer] = (int)(x.Count / known);
        }
        if (Tensor.CountOf(r, "Reshape") != x.Count)
            throw new ReidException($"Reshape of {x.Describe()} to [{string.Join(", ", shape)}]: element counts differ");
        return r;
    }
}

public static partial class Ops
{
    /// <summary>
    /// Elements [start, end) of one axis (e.g. a horizontal stripe of a [N,C,H,W] map: axis 2). The result is a
    /// plain copy; the input keeps its layout because its other consumers' backward passes read it as it is.
    /// </summary>
    public static Tensor Slice(Tensor x, int axis, int start, int end)
    {
        var a = x.NormalizeAxis(axis);
        var size = x.Dim(a);
        if (start < 0 || end > size || start >= end)
            throw new ReidException($"Slice of {x.Describe()} on axis {a}: range [{start}, {end}) is not inside [0, {size})");
        int outer = 1, inner = 1;
        for (var i = 0; i < a; i++) outer *= x.Dim(i);
        for (var i = a + 1; i < x.Rank; i++) inner *= x.Dim(i);
        var shape = x.ShapeArray();
        shape[a] = end - start;
        using var plainCopy = x.Layout is null ? null : x.CopyAs(null);
        var source = plainCopy ?? x;
        var y = Tensor.Empty(shape);
        int rowIn = size * inner, rowOut = (end - start) * inner, offset = start * inner;
        var src = source.Data;
        var dst = y.Data;
        for (var r = 0; r < outer; r++) src.Slice(r * rowIn + offset, rowOut).CopyTo(dst.Slice(r * rowOut, rowOut));
        var inShape = x.ShapeArray();
        var xLayout = x.Layout;
        OpTrace.Add("Slice", y, [x], ("axis", a), ("start", start), ("end", end));
        return Tape.Record("Slice", y, [x], g =>
        {
            var gx = Tensor.Zeros(inShape);
            var gs = g.Data;
            var gd = gx.Data;
            for (var r = 0; r < outer; r++) gs.Slice(r * rowOut, rowOut).CopyTo(gd.Slice(r * rowIn + offset, rowOut));
            // Back into the input's layout (bf16 blocked in a bf16 step): an f32 gradient meeting the other consumers'
            // bf16 one would turn the sum, and every backward pass below it, into f32.
            gx.ConvertTo(xLayout);
            return [gx];
        });
    }
}
