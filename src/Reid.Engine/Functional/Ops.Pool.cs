using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Native;
using Reid.Engine.Tensors;

namespace Reid.Engine.Functional;

public static partial class Ops
{
    /// <summary>Max pooling of [N,C,H,W] (floor mode, symmetric padding), on oneDNN.</summary>
    public static Tensor MaxPool2d(Tensor x, int kernel, int stride, int padding = 0) =>
        Pool(x, kernel, stride, padding, Dnnl.PoolingMax, "MaxPool", "MaxPool2d", countIncludePad: false);

    /// <summary>Average pooling of [N,C,H,W] (floor mode); PyTorch's default counts padding.</summary>
    public static Tensor AvgPool2d(Tensor x, int kernel, int stride, int padding = 0, bool countIncludePad = true) =>
        Pool(x, kernel, stride, padding, countIncludePad ? Dnnl.PoolingAvgIncludePadding : Dnnl.PoolingAvgExcludePadding,
            "AveragePool", "AvgPool2d", countIncludePad);

    private static Tensor Pool(Tensor x, int k, int s, int p, int alg, string traceName, string name, bool countIncludePad)
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
        var plan = DnnlPrimitives.PoolForward($"pool.fwd.{training}.{key}.{x.LayoutKey}", xMd, n, c, oh, ow, k, s, p, alg, training);
        var y = Tensor.Native([n, c, oh, ow], NativeLayout.From(plan.SlotMd(1), [n, c, oh, ow]));
        var ws = training && alg == Dnnl.PoolingMax ? Tensor.Empty((int)((plan.SlotBytes(2) + 3) / 4)) : null;
        if (ws is null) plan.Execute([x.Buffer, y.Buffer]);
        else plan.Execute([x.Buffer, y.Buffer, ws.Buffer]);
        OpTrace.Add(traceName, y, [x], ("kernel_shape", new[] { k, k }), ("strides", new[] { s, s }),
            ("pads", new[] { p, p, p, p }), ("count_include_pad", countIncludePad ? 1 : 0));
        if (!training) return y;
        return Tape.Record(name, y, [x], gy =>
        {
            // The workspace of max pooling matches the forward's layouts, so backward uses those layouts too.
            var yMd = plan.SlotMd(1);
            var gyMd = gy.Md;
            var bwd = DnnlPrimitives.PoolBackward($"pool.bwd.{key}.{NativeLayout.From(xMd, [n, c, h, w])?.Key ?? "plain"}.{gy.LayoutKey}",
                xMd, yMd, gyMd, k, s, p, alg);
            var gx = Tensor.Native([n, c, h, w], NativeLayout.From(xMd, [n, c, h, w]));
            if (ws is null) bwd.Execute([gy.Buffer, gx.Buffer]);
            else bwd.Execute([gy.Buffer, ws.Buffer, gx.Buffer]);
            return [gx];
        }, ws is null ? [] : [ws]);
    }
}
