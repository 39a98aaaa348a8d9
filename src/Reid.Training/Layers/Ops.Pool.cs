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
        var xMd = x.Md;
        var plan = DnnlPlan.GetOrCreate($"pool.fwd.{training}.{key}.{x.LayoutKey}", () => PoolForward(xMd, n, c, oh, ow, k, s, p, alg, training));
        var y = Tensor.Native([n, c, oh, ow], NativeLayout.From(plan.SlotMd(1), [n, c, oh, ow]));
        var ws = training && alg == Dnnl.PoolingMax ? Tensor.Empty((int)((plan.SlotBytes(2) + 3) / 4)) : null;
        if (ws is null) plan.Execute([x.RawHandle, y.RawHandle]);
        else plan.Execute([x.RawHandle, y.RawHandle, ws.RawHandle]);
        OpTrace.Add(traceName, y, [x], ("kernel_shape", new[] { k, k }), ("strides", new[] { s, s }),
            ("pads", new[] { p, p, p, p }), ("count_include_pad", countIncludePad ? 1 : 0));
        if (!training) return y;
        return Tape.Record(name, y, [x], gy =>
        {
            // The workspace of max pooling matches the forward's layouts, so backward uses those layouts too.
            var yMd = plan.SlotMd(1);
            var gyMd = gy.Md;
            var bwd = DnnlPlan.GetOrCreate($"pool.bwd.{key}.{NativeLayout.From(xMd, [n, c, h, w])?.Key ?? "plain"}.{gy.LayoutKey}",
                () => PoolBackward(xMd, yMd, gyMd, k, s, p, alg));
            var gx = Tensor.Native([n, c, h, w], NativeLayout.From(xMd, [n, c, h, w]));
            if (ws is null) bwd.Execute([gy.RawHandle, gx.RawHandle]);
            else bwd.Execute([gy.RawHandle, ws.RawHandle, gx.RawHandle]);
            return [gx];
        }, ws is null ? [] : [ws]);
    }

    private static unsafe DnnlPlan PoolForward(Dnnl.MemoryDesc src, int n, int c, int oh, int ow, int k, int s, int p, int alg, bool training)
    {
        // Same element type as the input (bf16 activations stay bf16).
        var dst = DnnlRuntime.AnyDesc([n, c, oh, ow], DnnlRuntime.DataType(src));
        var (strides, kernel, dil, pad) = PoolDims(k, s, p);
        var desc = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.pooling_v2_forward_desc_init(&desc, training ? Dnnl.ForwardTraining : Dnnl.ForwardInference, alg,
            &src, &dst, &strides, &kernel, &dil, &pad, &pad), "pooling_v2_forward_desc_init");
        var name = $"Pooling forward [{n},{c},{oh},{ow}] k{k} s{s} p{p}";
        return training && alg == Dnnl.PoolingMax
            ? DnnlPlan.Create(name, &desc, IntPtr.Zero,
                [SlotSpec.Fixed(Dnnl.ArgSrc, src, false), SlotSpec.Raw(Dnnl.ArgDst, Dnnl.QueryDstMd, true), SlotSpec.Raw(Dnnl.ArgWorkspace, Dnnl.QueryWorkspaceMd, true)])
            : DnnlPlan.Create(name, &desc, IntPtr.Zero, [SlotSpec.Fixed(Dnnl.ArgSrc, src, false), SlotSpec.Raw(Dnnl.ArgDst, Dnnl.QueryDstMd, true)]);
    }

    private static unsafe DnnlPlan PoolBackward(Dnnl.MemoryDesc src, Dnnl.MemoryDesc dst, Dnnl.MemoryDesc gyUser, int k, int s, int p, int alg)
    {
        var (strides, kernel, dil, pad) = PoolDims(k, s, p);
        var desc = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.pooling_v2_backward_desc_init(&desc, alg, &src, &dst, &strides, &kernel, &dil, &pad, &pad),
            "pooling_v2_backward_desc_init");
        var fwd = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.pooling_v2_forward_desc_init(&fwd, Dnnl.ForwardTraining, alg, &src, &dst, &strides, &kernel, &dil, &pad, &pad),
            "pooling_v2_forward_desc_init");
        DnnlRuntime.Check(Dnnl.primitive_desc_create(out var hint, &fwd, IntPtr.Zero, DnnlRuntime.Engine, IntPtr.Zero), "pooling hint");
        try
        {
            var name = $"Pooling backward k{k} s{s} p{p}";
            return alg == Dnnl.PoolingMax
                ? DnnlPlan.Create(name, &desc, hint,
                    [SlotSpec.In(Dnnl.ArgDiffDst, gyUser, Dnnl.QueryDiffDstMd), SlotSpec.Raw(Dnnl.ArgWorkspace, Dnnl.QueryWorkspaceMd, false), SlotSpec.Fixed(Dnnl.ArgDiffSrc, src, true)])
                : DnnlPlan.Create(name, &desc, hint, [SlotSpec.In(Dnnl.ArgDiffDst, gyUser, Dnnl.QueryDiffDstMd), SlotSpec.Fixed(Dnnl.ArgDiffSrc, src, true)]);
        }
        finally
        {
            Dnnl.primitive_desc_destroy(hint);
        }
    }

    private static (Dnnl.Dims, Dnnl.Dims, Dnnl.Dims, Dnnl.Dims) PoolDims(int k, int s, int p) =>
        (DnnlRuntime.ToDims(s, s), DnnlRuntime.ToDims(k, k), DnnlRuntime.ToDims(0, 0), DnnlRuntime.ToDims(p, p));
}
