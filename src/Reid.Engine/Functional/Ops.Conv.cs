using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Native;
using Reid.Engine.Tensors;

namespace Reid.Engine.Functional;

/// <summary>Convolution hyper-parameters (symmetric padding per axis, as in PyTorch).</summary>
public readonly record struct ConvSpec(int StrideH = 1, int StrideW = 1, int PadH = 0, int PadW = 0,
    int DilationH = 1, int DilationW = 1, int Groups = 1)
{
    public static ConvSpec Square(int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        new(stride, stride, padding, padding, dilation, dilation, groups);

    public int OutH(int h, int kh) => (h + 2 * PadH - (DilationH * (kh - 1) + 1)) / StrideH + 1;
    public int OutW(int w, int kw) => (w + 2 * PadW - (DilationW * (kw - 1) + 1)) / StrideW + 1;
}

public static partial class Ops
{
    /// <summary>2-D convolution of x [N,C,H,W] with w [O, C/groups, kh, kw] and optional bias [O], on oneDNN.</summary>
    public static Tensor Conv2d(Tensor x, Tensor w, Tensor? b, ConvSpec spec)
    {
        if (x.Rank != 4) throw new ReidException($"Conv2d expects an input [N,C,H,W] but got {x.Describe()}");
        if (w.Rank != 4) throw new ReidException($"Conv2d expects weights [O,C/groups,kh,kw] but got {w.Describe()}");
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), wd = x.Dim(3);
        int o = w.Dim(0), kh = w.Dim(2), kw = w.Dim(3), g = spec.Groups;
        if (g < 1 || c % g != 0 || o % g != 0 || w.Dim(1) != c / g)
            throw new ReidException($"Conv2d: input {x.Describe()} does not match weights {w.Describe()} with groups={g}");
        if (b is not null && (b.Rank != 1 || b.Dim(0) != o))
            throw new ReidException($"Conv2d: bias {b.Describe()} does not match {o} output channels");
        if (spec.StrideH < 1 || spec.StrideW < 1 || spec.DilationH < 1 || spec.DilationW < 1 || spec.PadH < 0 || spec.PadW < 0)
            throw new ReidException($"Conv2d: invalid stride/padding/dilation {spec}");
        int oh = spec.OutH(h, kh), ow = spec.OutW(wd, kw);
        if (oh < 1 || ow < 1)
            throw new ReidException($"Conv2d: input {x.Describe()} is too small for a {kh}x{kw} kernel with {spec}");

        var prec = Precision.Current;
        var training = Tape.NeedsGrad(x, w, b);
        var geo = new ConvGeometry(n, c, h, wd, o, kh, kw, oh, ow, spec, b is not null, prec);
        var fwd = geo.Forward(training);
        // The output stays in the layout the convolution wrote (usually blocked): the next oneDNN op reads it as is.
        var y = Tensor.Native([n, o, oh, ow], NativeLayout.From(fwd.SlotMd(b is null ? 2 : 3), [n, o, oh, ow]));
        // The input in the layout/precision the primitive wants (a copy only when it differs, e.g. f32 → bf16).
        var xIn = x.InLayout(geo.SrcLayout(fwd));
        var wIn = geo.WeightsIn(w, fwd, 1);
        try
        {
            if (b is null) fwd.Execute([xIn.Buffer, wIn.Buffer, y.Buffer]);
            else fwd.Execute([xIn.Buffer, wIn.Buffer, b.PlainBuffer, y.Buffer]);
        }
        finally
        {
            wIn.Temp?.Dispose();
        }

        OpTrace.Add("Conv", y, b is null ? [x, w] : [x, w, b],
            ("kernel_shape", new[] { kh, kw }), ("strides", new[] { spec.StrideH, spec.StrideW }),
            ("pads", new[] { spec.PadH, spec.PadW, spec.PadH, spec.PadW }),
            ("dilations", new[] { spec.DilationH, spec.DilationW }), ("group", g));
        // The converted input serves the weight-gradient pass too when it wants the same layout (bf16: the
        // input is converted once per step, not twice).
        var needsWeightGrad = training && (w.RequiresGrad || w.GradFn is not null || (b is not null && (b.RequiresGrad || b.GradFn is not null)));
        Tensor? xSaved = null;
        if (!ReferenceEquals(xIn, x))
        {
            if (needsWeightGrad && NativeLayout.Same(xIn.Layout, geo.SrcLayout(geo.BackwardWeights()))) xSaved = xIn;
            else xIn.Dispose();
        }
        if (!training) return y;
        Tensor[] inputs = b is null ? [x, w] : [x, w, b];
        return Tape.Record("Conv2d", y, inputs, gy =>
        {
            Tensor? gx = null, gw = null, gb = null;
            var temps = new List<Tensor>();
            try
            {
                if (Needs(x))
                {
                    var plan = geo.BackwardData();
                    var gyIn = gy.InLayout(geo.DiffDstLayout(plan, 0));
                    if (!ReferenceEquals(gyIn, gy)) temps.Add(gyIn);
                    var wBack = geo.WeightsIn(w, plan, 1);
                    if (wBack.Temp is not null) temps.Add(wBack.Temp);
                    gx = Tensor.Native([n, c, h, wd], NativeLayout.From(plan.SlotMd(2), [n, c, h, wd]));
                    plan.Execute([gyIn.Buffer, wBack.Buffer, gx.Buffer]);
                }
                if (Needs(w) || (b is not null && Needs(b)))
                {
                    var plan = geo.BackwardWeights();
                    // The output gradient is converted once for both backward primitives when they want the same layout.
                    var wantDst = geo.DiffDstLayout(plan, 1);
                    var gyIn = temps.FirstOrDefault(t => NativeLayout.Same(t.Layout, wantDst) && t.SameShape(gy)) ?? gy.InLayout(wantDst);
                    if (!ReferenceEquals(gyIn, gy)) temps.Add(gyIn);
                    var src = xSaved ?? x.InLayout(geo.SrcLayout(plan));
                    if (!ReferenceEquals(src, x)) temps.Add(src);
                    gw = Tensor.Empty(w.ShapeArray());
                    if (b is null) plan.Execute([src.Buffer, gyIn.Buffer, gw.PlainBuffer]);
                    else
                    {
                        gb = Tensor.Empty(o);
                        plan.Execute([src.Buffer, gyIn.Buffer, gw.PlainBuffer, gb.PlainBuffer]);
                    }
                }
            }
            finally
            {
                foreach (var t in temps.Distinct()) t.Dispose();
            }
            return b is null ? [gx, gw] : [gx, gw, gb];
        }, xSaved is null ? [] : [xSaved]);
    }

    /// <summary>
    /// A convolution's shapes and settings (<see cref="DnnlConvolution"/> builds and caches its primitives) and
    /// how tensors are brought into the layouts those primitives chose.
    /// </summary>
    private sealed record ConvGeometry(int N, int C, int H, int W, int O, int KH, int KW, int OH, int OW,
        ConvSpec Spec, bool Bias, ComputePrecision Precision)
    {
        private readonly DnnlConvolution _plans = new(N, C, H, W, O, KH, KW, OH, OW, Spec.StrideH, Spec.StrideW,
            Spec.PadH, Spec.PadW, Spec.DilationH, Spec.DilationW, Spec.Groups, Bias, Precision == ComputePrecision.BF16);

        public DnnlPlan Forward(bool training) => _plans.Forward(training);
        public DnnlPlan BackwardData() => _plans.BackwardData();
        public DnnlPlan BackwardWeights() => _plans.BackwardWeights();

        /// <summary>The layout a plan wants its input (source) in; null = plain f32.</summary>
        public NativeLayout? SrcLayout(DnnlPlan plan) => NativeLayout.From(plan.SlotMd(0), [N, C, H, W]);

        /// <summary>The layout a backward plan wants the output gradient in (slot 0 backward-data, 1 backward-weights).</summary>
        public NativeLayout? DiffDstLayout(DnnlPlan plan, int slot) => NativeLayout.From(plan.SlotMd(slot), [N, O, OH, OW]);

        /// <summary>
        /// The weights in the layout the plan wants: a parameter's converted copy is cached until its values
        /// change (one conversion per optimiser step); other tensors get a temporary copy the caller disposes.
        /// </summary>
        public (NativeBuffer Buffer, Tensor? Temp) WeightsIn(Tensor w, DnnlPlan plan, int slot)
        {
            var shape = _plans.WeightShape;
            var layout = NativeLayout.From(plan.SlotMd(slot), shape);
            w.EnsurePlain();
            if (layout is null) return (w.Buffer, null);
            var plainMd = DnnlRuntime.PlainDesc(shape, Dnnl.F32);
            if (w is Parameter p) return (p.ConvertedBuffer(layout, plainMd, shape), null);
            var temp = Tensor.Native(w.ShapeArray(), layout);
            DnnlPlan.Reorder(plainMd, layout.Md, $"plain>{layout.Key}.{string.Join('x', shape)}", w.Buffer, temp.Buffer);
            return (temp.Buffer, temp);
        }
    }
}
