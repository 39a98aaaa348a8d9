using Reid.Core;
using Reid.Training.Autograd;
using Reid.Training.Native;
using Reid.Training.Tensors;

namespace Reid.Training.Layers;

public static partial class Ops
{
    public static Tensor Relu(Tensor x) => Eltwise(x, Dnnl.EltwiseReluUseDst, 0, 0, "ReLU", useDst: true, "Relu");

    /// <summary>min(max(x, 0), 6), as in MobileNetV2.</summary>
    public static Tensor Relu6(Tensor x) => Eltwise(x, Dnnl.EltwiseClipV2, 0, 6, "ReLU6", useDst: false, "Clip", ("min", 0f), ("max", 6f));

    public static Tensor Sigmoid(Tensor x) => Eltwise(x, Dnnl.EltwiseLogisticUseDst, 0, 0, "Sigmoid", useDst: true, "Sigmoid");

    public static Tensor LeakyRelu(Tensor x, float slope = 0.01f) =>
        Eltwise(x, Dnnl.EltwiseRelu, slope, 0, "LeakyReLU", useDst: false, "LeakyRelu", ("alpha", slope));

    /// <summary>x·relu6(x+3)/6.</summary>
    public static Tensor Hardswish(Tensor x) => Eltwise(x, Dnnl.EltwiseHardswish, 0, 0, "Hardswish", useDst: false, "HardSwish");

    /// <summary>Exact (erf) GELU.</summary>
    public static Tensor Gelu(Tensor x) => Eltwise(x, Dnnl.EltwiseGeluErf, 0, 0, "GELU", useDst: false, "Gelu");

    private static unsafe Tensor Eltwise(Tensor x, int alg, float alpha, float beta, string name, bool useDst,
        string traceName, params (string, object)[] attributes)
    {
        var training = Tape.NeedsGrad(x);
        var shape = x.ShapeArray();
        if (x.Count == 0) throw new ReidException($"{name}: empty input {x.Describe()}");
        // Shape does not matter to an element-wise op: run it on a flat view so one primitive serves all shapes.
        var key = $"{alg},{alpha},{beta},{x.Count}";
        var plan = DnnlPlan.GetOrCreate($"eltwise.fwd.{training}.{key}", () => EltwiseForward(x.Count, alg, alpha, beta, training));
        var y = Tensor.Empty(shape);
        plan.Execute([x.Handle, y.Handle]);
        OpTrace.Add(traceName, y, [x], attributes);
        if (!training) return y;
        return Tape.Record(name, y, [x], gy =>
        {
            var gx = Tensor.Empty(shape);
            var bwd = DnnlPlan.GetOrCreate($"eltwise.bwd.{key}", () => EltwiseBackward(x.Count, alg, alpha, beta, useDst));
            bwd.Execute([gy.Handle, (useDst ? y : x).Handle, gx.Handle]);
            return [gx];
        });
    }

    private static unsafe DnnlPlan EltwiseForward(int count, int alg, float alpha, float beta, bool training)
    {
        var md = DnnlRuntime.PlainDesc([count], Dnnl.F32);
        var desc = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.eltwise_forward_desc_init(&desc, training ? Dnnl.ForwardTraining : Dnnl.ForwardInference, alg, &md, alpha, beta),
            "eltwise_forward_desc_init");
        return DnnlPlan.Create($"Eltwise {alg} forward [{count}]", &desc, IntPtr.Zero,
            [SlotSpec.Fixed(Dnnl.ArgSrc, md, false), SlotSpec.Fixed(Dnnl.ArgDst, md, true)]);
    }

    private static unsafe DnnlPlan EltwiseBackward(int count, int alg, float alpha, float beta, bool useDst)
    {
        var md = DnnlRuntime.PlainDesc([count], Dnnl.F32);
        var desc = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.eltwise_backward_desc_init(&desc, alg, &md, &md, alpha, beta), "eltwise_backward_desc_init");
        var hint = DnnlPlan.GetOrCreate($"eltwise.fwd.True.{alg},{alpha},{beta},{count}", () => EltwiseForward(count, alg, alpha, beta, true));
        return DnnlPlan.Create($"Eltwise {alg} backward [{count}]", &desc, hint.Pd,
        [
            SlotSpec.Fixed(Dnnl.ArgDiffDst, md, false),
            SlotSpec.Fixed(useDst ? Dnnl.ArgDst : Dnnl.ArgSrc, md, false),
            SlotSpec.Fixed(Dnnl.ArgDiffSrc, md, true),
        ]);
    }
}
