using Reid.Core;
using Reid.Training.Autograd;
using Reid.Training.Tensors;

namespace Reid.Training.Layers;

/// <summary>
/// The differentiable operations of the engine, as functions of tensors. Layers (Conv2d, BatchNorm2d, …)
/// are thin modules holding parameters that call these. Each op checks its inputs (ReidException naming
/// the op and tensor), records itself on the tape when gradients are needed, and on the active
/// <see cref="OpTrace"/> with ONNX-like names and attributes.
/// </summary>
public static partial class Ops
{
    /// <summary>Same storage, new shape (one axis may be -1).</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
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
