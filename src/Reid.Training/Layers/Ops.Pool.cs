using Reid.Core;
using Reid.Training.Autograd;
using Reid.Training.Native;
using Reid.Training.Tensors;

namespace Reid.Training.Layers;

public static partial class Ops
{
    /// <summary>Max pooling of [N,C,H,W] (floor mode, symmetric padding), on oneDNN.</summary>
    public static Tensor MaxPool2d(Tensor x, int kernel, int stride, int padding = 0) =>
        Pool(x, kernel, stride, padding, Dnnl.PoolingMax, "MaxPool", "MaxPool2d", countIncludePad: false);

    /// <summary>Average pooling of [N,C,H,W] (floor mode); PyTorch's default counts padding.</summary>
    public static Tensor AvgPool2d(Tensor x, int kernel, int stride, int padding = 0, bool countIncludePad = true) =>
        Pool(x, kernel, stride, padding, countIncludePad ? Dnnl.PoolingAvgIncludePadding : Dnnl.PoolingAvgExcludePadding,
            "AveragePool", "AvgPool2d", countIncludePad);

    private static unsafe Tensor Pool(Tensor x, int k, int s, int p, int alg, string traceName, string name, bool countIncludePad)
    {
        if (x.Rank != 4) throw new ReidException($"{name} expects [N,C,H,W] but got {x.Describe()}");
        if (k < 1 || s < 1 || p < 0 || p * 2 > k)
            throw new ReidException($"{name}: invalid kernel {k}, stride {s}, padding {p} (padding must be at most half the kernel)");
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
        if (oh < 1 || ow < 1) throw new ReidException($"{name}: input {x.Describe()} is smaller than the {k}x{k} kernel");
        var training = Tape.NeedsGrad(x);
        var key = $"{alg}.{n},{c},{h},{w},{k},{s},{p}";
        var plan = DnnlPlan.GetOrCreate($"pool.fwd.{training}.{key}", () => PoolForward(n, c, h, w, oh, ow, k, s, p, alg, training));
        var y = Tensor.Empty(n, c, oh, ow);
        var ws = training && alg == Dnnl.PoolingMax ? Tensor.Empty((int)((plan.SlotBytes(2) + 3) / 4)) : null;
        if (ws is null) plan.Execute([x.Handle, y.Handle]);
        else plan.Execute([x.Handle, y.Handle, ws.Handle]);
        OpTrace.Add(traceName, y, [x], ("kernel_shape", new[] { k, k }), ("strides", new[] { s, s }),
            ("pads", new[] { p, p, p, p }), ("count_include_pad", countIncludePad ? 1 : 0));
        if (!training) return y;
        return Tape.Record(name, y, [x], gy =>
        {
            var gx = Tensor.Empty(n, c, h, w);
            var bwd = DnnlPlan.GetOrCreate($"pool.bwd.{key}", () => PoolBackward(n, c, h, w, oh, ow, k, s, p, alg));
            if (ws is null) bwd.Execute([gy.Handle, gx.Handle]);
            else bwd.Execute([gy.Handle, ws.Handle, gx.Handle]);
            return [gx];
        }, ws is null ? [] : [ws]);
    }

    private static unsafe DnnlPlan PoolForward(int n, int c, int h, int w, int oh, int ow, int k, int s, int p, int alg, bool training)
    {
        var src = DnnlRuntime.PlainDesc([n, c, h, w], Dnnl.F32);
        var dst = DnnlRuntime.PlainDesc([n, c, oh, ow], Dnnl.F32);
        var (strides, kernel, dil, pad) = PoolDims(k, s, p);
        var desc = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.pooling_v2_forward_desc_init(&desc, training ? Dnnl.ForwardTraining : Dnnl.ForwardInference, alg,
            &src, &dst, &strides, &kernel, &dil, &pad, &pad), "pooling_v2_forward_desc_init");
        var name = $"Pooling forward [{n},{c},{h},{w}] k{k} s{s} p{p}";
        return training && alg == Dnnl.PoolingMax
            ? DnnlPlan.Create(name, &desc, IntPtr.Zero,
                [SlotSpec.Fixed(Dnnl.ArgSrc, src, false), SlotSpec.Fixed(Dnnl.ArgDst, dst, true), SlotSpec.Raw(Dnnl.ArgWorkspace, Dnnl.QueryWorkspaceMd, true)])
            : DnnlPlan.Create(name, &desc, IntPtr.Zero, [SlotSpec.Fixed(Dnnl.ArgSrc, src, false), SlotSpec.Fixed(Dnnl.ArgDst, dst, true)]);
    }

    private static unsafe DnnlPlan PoolBackward(int n, int c, int h, int w, int oh, int ow, int k, int s, int p, int alg)
    {
        var src = DnnlRuntime.PlainDesc([n, c, h, w], Dnnl.F32);
        var dst = DnnlRuntime.PlainDesc([n, c, oh, ow], Dnnl.F32);
        var (strides, kernel, dil, pad) = PoolDims(k, s, p);
        var desc = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.pooling_v2_backward_desc_init(&desc, alg, &src, &dst, &strides, &kernel, &dil, &pad, &pad),
            "pooling_v2_backward_desc_init");
        var hint = DnnlPlan.GetOrCreate($"pool.fwd.True.{alg}.{n},{c},{h},{w},{k},{s},{p}", () => PoolForward(n, c, h, w, oh, ow, k, s, p, alg, true));
        var name = $"Pooling backward [{n},{c},{h},{w}] k{k} s{s} p{p}";
        return alg == Dnnl.PoolingMax
            ? DnnlPlan.Create(name, &desc, hint.Pd,
                [SlotSpec.Fixed(Dnnl.ArgDiffDst, dst, false), SlotSpec.Raw(Dnnl.ArgWorkspace, Dnnl.QueryWorkspaceMd, false), SlotSpec.Fixed(Dnnl.ArgDiffSrc, src, true)])
            : DnnlPlan.Create(name, &desc, hint.Pd, [SlotSpec.Fixed(Dnnl.ArgDiffDst, dst, false), SlotSpec.Fixed(Dnnl.ArgDiffSrc, src, true)]);
    }

    private static (Dnnl.Dims, Dnnl.Dims, Dnnl.Dims, Dnnl.Dims) PoolDims(int k, int s, int p) =>
        (DnnlRuntime.ToDims(s, s), DnnlRuntime.ToDims(k, k), DnnlRuntime.ToDims(0, 0), DnnlRuntime.ToDims(p, p));
}
