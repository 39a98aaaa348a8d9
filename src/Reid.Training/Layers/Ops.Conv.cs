using Reid.Core;
using Reid.Training.Autograd;
using Reid.Training.Native;
using Reid.Training.Tensors;

namespace Reid.Training.Layers;

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
    public static unsafe Tensor Conv2d(Tensor x, Tensor w, Tensor? b, ConvSpec spec)
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
            if (b is null) fwd.Execute([xIn.RawHandle, wIn.Handle, y.RawHandle]);
            else fwd.Execute([xIn.RawHandle, wIn.Handle, b.Handle, y.RawHandle]);
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
                    plan.Execute([gyIn.RawHandle, wBack.Handle, gx.RawHandle]);
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
                    if (b is null) plan.Execute([src.RawHandle, gyIn.RawHandle, gw.Handle]);
                    else
                    {
                        gb = Tensor.Empty(o);
                        plan.Execute([src.RawHandle, gyIn.RawHandle, gw.Handle, gb.Handle]);
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

    /// <summary>Everything that identifies a convolution's primitives; builds and caches them.</summary>
    private sealed record ConvGeometry(int N, int C, int H, int W, int O, int KH, int KW, int OH, int OW,
        ConvSpec Spec, bool Bias, ComputePrecision Precision)
    {
        private string Key => $"{N},{C},{H},{W},{O},{KH},{KW},{OH},{OW},{Spec},{Bias},{Precision}";
        private int Compute => Precision == ComputePrecision.BF16 ? Dnnl.BF16 : Dnnl.F32;

        private int[] WeightShape => Spec.Groups == 1
            ? [O, C, KH, KW]
            : [Spec.Groups, O / Spec.Groups, C / Spec.Groups, KH, KW];

        public DnnlPlan Forward(bool training) =>
            DnnlPlan.GetOrCreate($"conv.fwd.{training}.{Key}", () => CreateForward(training));

        /// <summary>The layout a plan wants its input (source) in; null = plain f32.</summary>
        public NativeLayout? SrcLayout(DnnlPlan plan) => NativeLayout.From(plan.SlotMd(0), [N, C, H, W]);

        /// <summary>The layout a backward plan wants the output gradient in (slot 0 backward-data, 1 backward-weights).</summary>
        public NativeLayout? DiffDstLayout(DnnlPlan plan, int slot) => NativeLayout.From(plan.SlotMd(slot), [N, O, OH, OW]);

        /// <summary>
        /// The weights in the layout the plan wants: a parameter's converted copy is cached until its values
        /// change (one conversion per optimiser step); other tensors get a temporary copy the caller disposes.
        /// </summary>
        public unsafe (IntPtr Handle, Tensor? Temp) WeightsIn(Tensor w, DnnlPlan plan, int slot)
        {
            var shape = WeightShape;
            var layout = NativeLayout.From(plan.SlotMd(slot), shape);
            w.EnsurePlain();
            if (layout is null) return (w.RawHandle, null);
            var plainMd = DnnlRuntime.PlainDesc(shape, Dnnl.F32);
            if (w is Parameter p) return (p.ConvertedHandle(layout, plainMd, shape), null);
            var temp = Tensor.Native(w.ShapeArray(), layout);
            DnnlPlan.Reorder(plainMd, layout.Md, $"plain>{layout.Key}.{string.Join('x', shape)}", w.RawHandle, temp.RawHandle);
            return (temp.RawHandle, temp);
        }

        private unsafe DnnlPlan CreateForward(bool training)
        {
            var src = DnnlRuntime.AnyDesc([N, C, H, W], Compute);
            var wei = DnnlRuntime.AnyDesc(WeightShape, Compute);
            var bias = DnnlRuntime.PlainDesc([O], Dnnl.F32);
            // bf16 steps keep activations in bf16: the next BN/ReLU/conv reads half the bytes and needs no conversion.
            var dst = DnnlRuntime.AnyDesc([N, O, OH, OW], Compute);
            var (strides, dil, pad) = Geometry();
            var desc = new Dnnl.OpDesc();
            DnnlRuntime.Check(Dnnl.dilated_convolution_forward_desc_init(&desc, training ? Dnnl.ForwardTraining : Dnnl.ForwardInference,
                Dnnl.ConvolutionDirect, &src, &wei, Bias ? &bias : null, &dst, &strides, &dil, &pad, &pad), "convolution_forward_desc_init");
            // Source and weights arrive already in the primitive's layout (see SrcLayout, WeightsIn).
            var specs = new List<SlotSpec>
            {
                SlotSpec.Raw(Dnnl.ArgSrc, Dnnl.QuerySrcMd, false),
                SlotSpec.Raw(Dnnl.ArgWeights, Dnnl.QueryWeightsMd, false),
            };
            if (Bias) specs.Add(SlotSpec.In(Dnnl.ArgBias, bias, Dnnl.QueryWeightsMd, 1));
            specs.Add(SlotSpec.Raw(Dnnl.ArgDst, Dnnl.QueryDstMd, true));
            return DnnlPlan.Create($"Conv2d forward {Key}", &desc, IntPtr.Zero, specs.ToArray());
        }

        public DnnlPlan BackwardData() =>
            DnnlPlan.GetOrCreate($"conv.bwd_data.{Key}", CreateBackwardData);

        private unsafe DnnlPlan CreateBackwardData()
        {
            var diffSrc = DnnlRuntime.AnyDesc([N, C, H, W], Compute);
            var wei = DnnlRuntime.AnyDesc(WeightShape, Compute);
            var diffDst = DnnlRuntime.AnyDesc([N, O, OH, OW], Compute);
            var (strides, dil, pad) = Geometry();
            var desc = new Dnnl.OpDesc();
            DnnlRuntime.Check(Dnnl.dilated_convolution_backward_data_desc_init(&desc, Dnnl.ConvolutionDirect,
                &diffSrc, &wei, &diffDst, &strides, &dil, &pad, &pad), "convolution_backward_data_desc_init");
            var hint = Forward(true).Pd;
            return DnnlPlan.Create($"Conv2d backward-data {Key}", &desc, hint,
            [
                SlotSpec.Raw(Dnnl.ArgDiffDst, Dnnl.QueryDiffDstMd, false),
                SlotSpec.Raw(Dnnl.ArgWeights, Dnnl.QueryWeightsMd, false),
                SlotSpec.Raw(Dnnl.ArgDiffSrc, Dnnl.QueryDiffSrcMd, true),
            ]);
        }

        public DnnlPlan BackwardWeights() =>
            DnnlPlan.GetOrCreate($"conv.bwd_weights.{Key}", CreateBackwardWeights);

        private unsafe DnnlPlan CreateBackwardWeights()
        {
            var src = DnnlRuntime.AnyDesc([N, C, H, W], Compute);
            var diffWei = DnnlRuntime.AnyDesc(WeightShape, Dnnl.F32);
            var diffBias = DnnlRuntime.PlainDesc([O], Dnnl.F32);
            var diffDst = DnnlRuntime.AnyDesc([N, O, OH, OW], Compute);
            var (strides, dil, pad) = Geometry();
            var desc = new Dnnl.OpDesc();
            DnnlRuntime.Check(Dnnl.dilated_convolution_backward_weights_desc_init(&desc, Dnnl.ConvolutionDirect,
                &src, &diffWei, Bias ? &diffBias : null, &diffDst, &strides, &dil, &pad, &pad), "convolution_backward_weights_desc_init");
            var hint = Forward(true).Pd;
            var specs = new List<SlotSpec>
            {
                SlotSpec.Raw(Dnnl.ArgSrc, Dnnl.QuerySrcMd, false),
                SlotSpec.Raw(Dnnl.ArgDiffDst, Dnnl.QueryDiffDstMd, false),
                SlotSpec.Out(Dnnl.ArgDiffWeights, DnnlRuntime.PlainDesc(WeightShape, Dnnl.F32), Dnnl.QueryDiffWeightsMd),
            };
            if (Bias) specs.Add(SlotSpec.Out(Dnnl.ArgDiffBias, diffBias, Dnnl.QueryDiffWeightsMd, 1));
            return DnnlPlan.Create($"Conv2d backward-weights {Key}", &desc, hint, specs.ToArray());
        }

        private (Dnnl.Dims Strides, Dnnl.Dims Dilation, Dnnl.Dims Pad) Geometry() => (
            DnnlRuntime.ToDims(Spec.StrideH, Spec.StrideW),
            DnnlRuntime.ToDims(Spec.DilationH - 1, Spec.DilationW - 1),
            DnnlRuntime.ToDims(Spec.PadH, Spec.PadW));
    }
}
