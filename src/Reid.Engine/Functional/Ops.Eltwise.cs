using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Native;
using Reid.Engine.Tensors;

namespace Reid.Engine.Functional;

public static partial class Ops
{
    public static Tensor Relu(Tensor x) => Eltwise(x, Dnnl.EltwiseReluUseDst, 0, 0, "ReLU", useDst: true, "Relu");

    /// <summary>
    /// ReLU that overwrites its input's buffer (saves one activation per conv–BN–ReLU in training). Safe after
    /// Conv2d, BatchNorm, Linear and Add, whose backward does not read their output; after anything else it
    /// falls back to the out-of-place op. Using the overwritten input in another op raises an error in Backward.
    /// </summary>
    public static Tensor ReluInPlace(Tensor x)
    {
        if (x.GradFn is not null && x.GradFn.Op is not ("Conv2d" or "BatchNorm" or "Linear" or "Add")) return Relu(x);
        if (x.GradFn is null && x.RequiresGrad) return Relu(x);
        return Eltwise(x, Dnnl.EltwiseReluUseDst, 0, 0, "ReLU", useDst: true, "Relu", inPlace: true);
    }

    /// <summary>min(max(x, 0), 6), as in MobileNetV2.</summary>
    public static Tensor Relu6(Tensor x) => Eltwise(x, Dnnl.EltwiseClipV2, 0, 6, "ReLU6", useDst: false, "Clip", ("min", 0f), ("max", 6f));

    public static Tensor Sigmoid(Tensor x) => Eltwise(x, Dnnl.EltwiseLogisticUseDst, 0, 0, "Sigmoid", useDst: true, "Sigmoid");

    public static Tensor LeakyRelu(Tensor x, float slope = 0.01f) =>
        Eltwise(x, Dnnl.EltwiseRelu, slope, 0, "LeakyReLU", useDst: false, "LeakyRelu", ("alpha", slope));

    /// <summary>x·relu6(x+3)/6.</summary>
    public static Tensor Hardswish(Tensor x) => Eltwise(x, Dnnl.EltwiseHardswish, 0, 0, "Hardswish", useDst: false, "HardSwish");

    /// <summary>Exact (erf) GELU.</summary>
    public static Tensor Gelu(Tensor x) => Eltwise(x, Dnnl.EltwiseGeluErf, 0, 0, "GELU", useDst: false, "Gelu");

    private static Tensor Eltwise(Tensor x, int alg, float alpha, float beta, string name, bool useDst,
        string traceName, params (string, object)[] attributes) => Eltwise(x, alg, alpha, beta, name, useDst, traceName, false, attributes);

    private static Tensor Eltwise(Tensor x, int alg, float alpha, float beta, string name, bool useDst,
        string traceName, bool inPlace, params (string, object)[] attributes)
    {
        var training = Tape.NeedsGrad(x);
        var shape = x.ShapeArray();
        if (x.Count == 0) throw new ReidException($"{name}: empty input {x.Describe()}");
        // Plain tensors are viewed flat (one primitive for every shape); native-layout ones keep their layout.
        var layout = x.Layout;
        var md = layout?.Md ?? FlatOrPlain(x);
        var key = $"{alg},{alpha},{beta},{x.Count},{x.LayoutKey}";
        var plan = DnnlPrimitives.EltwiseForward($"eltwise.fwd.{training}.{key}", md, alg, alpha, beta, training);
        var y = inPlace ? x.AliasForInPlace() : Tensor.Native(shape, layout);
        plan.Execute([x.Buffer, y.Buffer]);
        OpTrace.Add(traceName, y, [x], attributes);
        if (!training) return y;
        return Tape.Record(name, y, [x], gy =>
        {
            // The saved tensor may have been converted to plain since the forward; follow its current layout.
            var saved = useDst ? y : x;
            var dataLayout = saved.Layout;
            if (dataLayout is null) gy.EnsurePlain();
            var dataMd = dataLayout?.Md ?? FlatOrPlain(x);
            var gyMd = gy.Layout?.Md ?? (dataLayout is null ? FlatOrPlain(x) : gy.Md);
            var gx = Tensor.Native(shape, dataLayout);
            var bwd = DnnlPrimitives.EltwiseBackward($"eltwise.bwd.{alg},{alpha},{beta},{x.Count},{saved.LayoutKey},{gy.LayoutKey}",
                dataMd, gyMd, alg, alpha, beta, useDst);
            bwd.Execute([gy.Buffer, saved.Buffer, gx.Buffer]);
            return [gx];
        });
    }

    /// <summary>Plain data is described flat so one primitive serves every shape with the same element count.</summary>
    private static Dnnl.MemoryDesc FlatOrPlain(Tensor x) => DnnlRuntime.PlainDesc([x.Count], Dnnl.F32);
}
