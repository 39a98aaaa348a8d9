namespace Reid.Engine.Native;

/// <summary>
/// Typed factories for the oneDNN primitives the engine's operations run: each builds the operation
/// descriptor (the C API's pointer-taking <c>*_desc_init</c> calls) and the plan that executes it, cached by
/// a key of everything that identifies it. Operations above <c>Native/</c> ask for a plan by shapes,
/// memory descriptors and settings, and run it on <see cref="NativeBuffer"/>s.
/// </summary>
internal static unsafe class DnnlPrimitives
{
    // ---- matrix product ----

    /// <summary>
    /// dst [M,N] = op(A) [M,K] · op(B) [K,N] (+ bias [N]), all plain f32 in memory; op transposes a stored
    /// matrix when asked (A stored [K,M] if transA, B stored [N,K] if transB). bf16 computes in bf16 with f32
    /// accumulation (the plan converts inputs into scratch).
    /// </summary>
    public static DnnlPlan MatMul(int m, int k, int n, bool transA, bool transB, bool hasBias, bool bf16) =>
        DnnlPlan.GetOrCreate($"matmul.{m},{k},{n},{transA},{transB},{hasBias},{(bf16 ? "BF16" : "F32")}", () =>
        {
            var compute = bf16 ? Dnnl.BF16 : Dnnl.F32;
            var userA = DnnlRuntime.TaggedDesc([m, k], Dnnl.F32, transA ? Dnnl.TagBA : Dnnl.TagAB);
            var userB = DnnlRuntime.TaggedDesc([k, n], Dnnl.F32, transB ? Dnnl.TagBA : Dnnl.TagAB);
            var userBias = DnnlRuntime.PlainDesc([1, n], Dnnl.F32);
            var userDst = DnnlRuntime.PlainDesc([m, n], Dnnl.F32);
            var primA = compute == Dnnl.F32 ? userA : DnnlRuntime.PlainDesc([m, k], compute);
            var primB = compute == Dnnl.F32 ? userB : DnnlRuntime.AnyDesc([k, n], compute);
            var desc = new Dnnl.OpDesc();
            DnnlRuntime.Check(Dnnl.matmul_desc_init(&desc, &primA, &primB, hasBias ? &userBias : null, &userDst), "matmul_desc_init");
            var specs = new List<SlotSpec>
            {
                SlotSpec.In(Dnnl.ArgSrc, userA, Dnnl.QuerySrcMd),
                SlotSpec.In(Dnnl.ArgWeights, userB, Dnnl.QueryWeightsMd),
            };
            if (hasBias) specs.Add(SlotSpec.Fixed(Dnnl.ArgBias, userBias, false));
            specs.Add(SlotSpec.Out(Dnnl.ArgDst, userDst, Dnnl.QueryDstMd));
            return DnnlPlan.Create($"MatMul [{m},{k}]x[{k},{n}]", &desc, IntPtr.Zero, specs.ToArray());
        });

    // ---- batch normalisation ----

    private static uint BnFlags(bool training) => Dnnl.UseScale | Dnnl.UseShift | (training ? 0 : Dnnl.UseGlobalStats);

    /// <summary>
    /// Slots: training (src, scale, shift, dst, mean, variance); evaluation (src, mean, variance, scale, shift, dst).
    /// </summary>
    public static DnnlPlan BatchNormForward(string key, Dnnl.MemoryDesc data, int c, float eps, bool training) =>
        DnnlPlan.GetOrCreate(key, () => CreateBatchNormForward(data, c, eps, training));

    private static DnnlPlan CreateBatchNormForward(Dnnl.MemoryDesc data, int c, float eps, bool training)
    {
        var vec = DnnlRuntime.PlainDesc([c], Dnnl.F32);
        var desc = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.batch_normalization_forward_desc_init(&desc,
            training ? Dnnl.ForwardTraining : Dnnl.ForwardInference, &data, eps, BnFlags(training)), "batch_normalization_forward_desc_init");
        var name = $"BatchNorm forward ({c} channels)";
        return training
            ? DnnlPlan.Create(name, &desc, IntPtr.Zero,
            [
                SlotSpec.Fixed(Dnnl.ArgSrc, data, false),
                SlotSpec.Fixed(Dnnl.ArgScale, vec, false),
                SlotSpec.Fixed(Dnnl.ArgShift, vec, false),
                SlotSpec.Fixed(Dnnl.ArgDst, data, true),
                SlotSpec.Fixed(Dnnl.ArgMean, vec, true),
                SlotSpec.Fixed(Dnnl.ArgVariance, vec, true),
            ])
            : DnnlPlan.Create(name, &desc, IntPtr.Zero,
            [
                SlotSpec.Fixed(Dnnl.ArgSrc, data, false),
                SlotSpec.Fixed(Dnnl.ArgMean, vec, false),
                SlotSpec.Fixed(Dnnl.ArgVariance, vec, false),
                SlotSpec.Fixed(Dnnl.ArgScale, vec, false),
                SlotSpec.Fixed(Dnnl.ArgShift, vec, false),
                SlotSpec.Fixed(Dnnl.ArgDst, data, true),
            ]);
    }

    /// <summary>Slots: src, mean, variance, diff dst, scale, shift, diff src, diff scale, diff shift.</summary>
    public static DnnlPlan BatchNormBackward(string key, Dnnl.MemoryDesc data, Dnnl.MemoryDesc gyUser, int c, float eps, bool training) =>
        DnnlPlan.GetOrCreate(key, () => CreateBatchNormBackward(data, gyUser, c, eps, training));

    private static DnnlPlan CreateBatchNormBackward(Dnnl.MemoryDesc data, Dnnl.MemoryDesc gyUser, int c, float eps, bool training)
    {
        var vec = DnnlRuntime.PlainDesc([c], Dnnl.F32);
        var desc = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.batch_normalization_backward_desc_init(&desc, Dnnl.Backward, &data, &data, eps, BnFlags(training)),
            "batch_normalization_backward_desc_init");
        var hint = CreateBatchNormForward(data, c, eps, training);
        return DnnlPlan.Create($"BatchNorm backward ({c} channels)", &desc, hint.Pd,
        [
            SlotSpec.Fixed(Dnnl.ArgSrc, data, false),
            SlotSpec.Fixed(Dnnl.ArgMean, vec, false),
            SlotSpec.Fixed(Dnnl.ArgVariance, vec, false),
            SlotSpec.In(Dnnl.ArgDiffDst, gyUser, Dnnl.QueryDiffDstMd),
            SlotSpec.Fixed(Dnnl.ArgScale, vec, false),
            SlotSpec.Fixed(Dnnl.ArgShift, vec, false),
            SlotSpec.Fixed(Dnnl.ArgDiffSrc, data, true),
            SlotSpec.Fixed(Dnnl.ArgDiffScale, vec, true),
            SlotSpec.Fixed(Dnnl.ArgDiffShift, vec, true),
        ]);
    }

    // ---- pooling ----

    /// <summary>Slots: src, dst (in the layout oneDNN picks), and for training max pooling the workspace.</summary>
    public static DnnlPlan PoolForward(string key, Dnnl.MemoryDesc src, int n, int c, int oh, int ow, int k, int s, int p, int alg, bool training) =>
        DnnlPlan.GetOrCreate(key, () => CreatePoolForward(src, n, c, oh, ow, k, s, p, alg, training));

    private static DnnlPlan CreatePoolForward(Dnnl.MemoryDesc src, int n, int c, int oh, int ow, int k, int s, int p, int alg, bool training)
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

    /// <summary>Slots: diff dst, (max pooling: workspace), diff src.</summary>
    public static DnnlPlan PoolBackward(string key, Dnnl.MemoryDesc src, Dnnl.MemoryDesc dst, Dnnl.MemoryDesc gyUser, int k, int s, int p, int alg) =>
        DnnlPlan.GetOrCreate(key, () => CreatePoolBackward(src, dst, gyUser, k, s, p, alg));

    private static DnnlPlan CreatePoolBackward(Dnnl.MemoryDesc src, Dnnl.MemoryDesc dst, Dnnl.MemoryDesc gyUser, int k, int s, int p, int alg)
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

    /// <summary>
    /// Spreads g [N,C,1,1] / (H·W) over [N,C,H,W] in <paramref name="src"/>'s layout (average pooling's
    /// backward over the whole map). Slots: diff dst, diff src.
    /// </summary>
    public static DnnlPlan GlobalAvgPoolBackward(string key, Dnnl.MemoryDesc src, Dnnl.MemoryDesc gMd, int n, int c, int h, int w) =>
        DnnlPlan.GetOrCreate(key, () => CreateGlobalAvgPoolBackward(src, gMd, n, c, h, w));

    private static DnnlPlan CreateGlobalAvgPoolBackward(Dnnl.MemoryDesc src, Dnnl.MemoryDesc gMd, int n, int c, int h, int w)
    {
        var (strides, kernel, dil, pad) = (DnnlRuntime.ToDims(h, w), DnnlRuntime.ToDims(h, w), DnnlRuntime.ToDims(0, 0), DnnlRuntime.ToDims(0, 0));
        var dst = DnnlRuntime.AnyDesc([n, c, 1, 1], DnnlRuntime.DataType(src));
        var fwd = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.pooling_v2_forward_desc_init(&fwd, Dnnl.ForwardTraining, Dnnl.PoolingAvgExcludePadding,
            &src, &dst, &strides, &kernel, &dil, &pad, &pad), "pooling_v2_forward_desc_init");
        DnnlRuntime.Check(Dnnl.primitive_desc_create(out var hint, &fwd, IntPtr.Zero, DnnlRuntime.Engine, IntPtr.Zero), "pooling hint");
        try
        {
            var pooled = *Dnnl.primitive_desc_query_md(hint, Dnnl.QueryDstMd, 0);
            var desc = new Dnnl.OpDesc();
            DnnlRuntime.Check(Dnnl.pooling_v2_backward_desc_init(&desc, Dnnl.PoolingAvgExcludePadding, &src, &pooled,
                &strides, &kernel, &dil, &pad, &pad), "pooling_v2_backward_desc_init");
            return DnnlPlan.Create($"GlobalAvgPool backward [{n},{c},{h},{w}]", &desc, hint,
                [SlotSpec.In(Dnnl.ArgDiffDst, gMd, Dnnl.QueryDiffDstMd), SlotSpec.Fixed(Dnnl.ArgDiffSrc, src, true)]);
        }
        finally
        {
            Dnnl.primitive_desc_destroy(hint);
        }
    }

    // ---- elementwise ----

    /// <summary>Slots: src, dst.</summary>
    public static DnnlPlan EltwiseForward(string key, Dnnl.MemoryDesc md, int alg, float alpha, float beta, bool training) =>
        DnnlPlan.GetOrCreate(key, () => CreateEltwiseForward(md, alg, alpha, beta, training));

    private static DnnlPlan CreateEltwiseForward(Dnnl.MemoryDesc md, int alg, float alpha, float beta, bool training)
    {
        var desc = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.eltwise_forward_desc_init(&desc, training ? Dnnl.ForwardTraining : Dnnl.ForwardInference, alg, &md, alpha, beta),
            "eltwise_forward_desc_init");
        return DnnlPlan.Create($"Eltwise {alg} forward", &desc, IntPtr.Zero,
            [SlotSpec.Fixed(Dnnl.ArgSrc, md, false), SlotSpec.Fixed(Dnnl.ArgDst, md, true)]);
    }

    /// <summary>Slots: diff dst, the saved src (or dst when <paramref name="useDst"/>), diff src.</summary>
    public static DnnlPlan EltwiseBackward(string key, Dnnl.MemoryDesc md, Dnnl.MemoryDesc gyUser, int alg, float alpha, float beta, bool useDst) =>
        DnnlPlan.GetOrCreate(key, () => CreateEltwiseBackward(md, gyUser, alg, alpha, beta, useDst));

    private static DnnlPlan CreateEltwiseBackward(Dnnl.MemoryDesc md, Dnnl.MemoryDesc gyUser, int alg, float alpha, float beta, bool useDst)
    {
        var desc = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.eltwise_backward_desc_init(&desc, alg, &md, &md, alpha, beta), "eltwise_backward_desc_init");
        var hint = CreateEltwiseForward(md, alg, alpha, beta, true);
        return DnnlPlan.Create($"Eltwise {alg} backward", &desc, hint.Pd,
        [
            SlotSpec.In(Dnnl.ArgDiffDst, gyUser, Dnnl.QueryDiffDstMd),
            SlotSpec.Fixed(useDst ? Dnnl.ArgDst : Dnnl.ArgSrc, md, false),
            SlotSpec.Fixed(Dnnl.ArgDiffSrc, md, true),
        ]);
    }
}

/// <summary>
/// Everything that identifies a 2-D convolution's three primitives (forward, backward-data,
/// backward-weights); builds and caches them. Sources, weights and output gradients are expected in the
/// layouts the primitives chose (query <see cref="DnnlPlan.SlotMd"/>); bf16 keeps activations in bf16.
/// </summary>
internal sealed unsafe record DnnlConvolution(int N, int C, int H, int W, int O, int KH, int KW, int OH, int OW,
    int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW, int Groups, bool Bias, bool Bf16)
{
    private string Key => $"{N},{C},{H},{W},{O},{KH},{KW},{OH},{OW},s{StrideH}x{StrideW},p{PadH}x{PadW},d{DilationH}x{DilationW},g{Groups},{Bias},{(Bf16 ? "BF16" : "F32")}";
    private int Compute => Bf16 ? Dnnl.BF16 : Dnnl.F32;

    /// <summary>The weights as oneDNN shapes them (a leading group axis when grouped).</summary>
    public int[] WeightShape => Groups == 1 ? [O, C, KH, KW] : [Groups, O / Groups, C / Groups, KH, KW];

    /// <summary>Slots: src, weights, (bias), dst.</summary>
    public DnnlPlan Forward(bool training) =>
        DnnlPlan.GetOrCreate($"conv.fwd.{training}.{Key}", () =>
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
            // Source and weights arrive already in the primitive's layout.
            var specs = new List<SlotSpec>
            {
                SlotSpec.Raw(Dnnl.ArgSrc, Dnnl.QuerySrcMd, false),
                SlotSpec.Raw(Dnnl.ArgWeights, Dnnl.QueryWeightsMd, false),
            };
            if (Bias) specs.Add(SlotSpec.In(Dnnl.ArgBias, bias, Dnnl.QueryWeightsMd, 1));
            specs.Add(SlotSpec.Raw(Dnnl.ArgDst, Dnnl.QueryDstMd, true));
            return DnnlPlan.Create($"Conv2d forward {Key}", &desc, IntPtr.Zero, specs.ToArray());
        });

    /// <summary>Slots: diff dst, weights, diff src.</summary>
    public DnnlPlan BackwardData() =>
        DnnlPlan.GetOrCreate($"conv.bwd_data.{Key}", () =>
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
        });

    /// <summary>Slots: src, diff dst, diff weights (plain f32), (diff bias).</summary>
    public DnnlPlan BackwardWeights() =>
        DnnlPlan.GetOrCreate($"conv.bwd_weights.{Key}", () =>
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
        });

    private (Dnnl.Dims Strides, Dnnl.Dims Dilation, Dnnl.Dims Pad) Geometry() => (
        DnnlRuntime.ToDims(StrideH, StrideW),
        DnnlRuntime.ToDims(DilationH - 1, DilationW - 1),
        DnnlRuntime.ToDims(PadH, PadW));
}
