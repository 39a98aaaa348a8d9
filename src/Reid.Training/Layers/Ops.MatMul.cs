using System.Numerics.Tensors;
using Reid.Core;
using Reid.Training.Autograd;
using Reid.Training.Native;
using Reid.Training.Tensors;
using Tensor = Reid.Training.Tensors.Tensor;

namespace Reid.Training.Layers;

public static partial class Ops
{
    /// <summary>y = x·wᵀ + b for x [N,in], w [out,in], b [out] (oneDNN matmul; bf16 under Precision BF16).</summary>
    public static Tensor Linear(Tensor x, Tensor w, Tensor? b)
    {
        if (x.Rank != 2) throw new ReidException($"Linear expects an input [N,features] but got {x.Describe()}");
        if (w.Rank != 2 || w.Dim(1) != x.Dim(1))
            throw new ReidException($"Linear: input {x.Describe()} does not match weights {w.Describe()}");
        if (b is not null && (b.Rank != 1 || b.Dim(0) != w.Dim(0)))
            throw new ReidException($"Linear: bias {b.Describe()} does not match weights {w.Describe()}");
        int n = x.Dim(0), k = x.Dim(1), m = w.Dim(0);
        var prec = Precision.Current;
        var y = Tensor.Empty(n, m);
        MatMulRaw(x.Handle, false, w.Handle, true, b?.Handle ?? IntPtr.Zero, y.Handle, n, k, m, prec);
        OpTrace.Add("Gemm", y, b is null ? [x, w] : [x, w, b], ("transB", 1));
        if (!Tape.NeedsGrad(x, w, b)) return y;
        Tensor[] inputs = b is null ? [x, w] : [x, w, b];
        return Tape.Record("Linear", y, inputs, gy =>
        {
            Tensor? gx = null, gw = null, gb = null;
            if (Needs(x))
            {
                gx = Tensor.Empty(n, k);
                MatMulRaw(gy.Handle, false, w.Handle, false, IntPtr.Zero, gx.Handle, n, m, k, prec);
            }
            if (Needs(w))
            {
                gw = Tensor.Empty(m, k);
                MatMulRaw(gy.Handle, true, x.Handle, false, IntPtr.Zero, gw.Handle, m, n, k, prec);
            }
            if (b is not null && Needs(b)) gb = SumRows(gy, n, m);
            return b is null ? [gx, gw] : [gx, gw, gb];
        });
    }

    /// <summary>a [M,K] · b [K,N] (or bᵀ for b [N,K] when <paramref name="transposeB"/>).</summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transposeB = false)
    {
        if (a.Rank != 2 || b.Rank != 2) throw new ReidException($"MatMul expects two matrices, got {a.Describe()} and {b.Describe()}");
        int m = a.Dim(0), k = a.Dim(1), n = transposeB ? b.Dim(0) : b.Dim(1);
        if ((transposeB ? b.Dim(1) : b.Dim(0)) != k)
            throw new ReidException($"MatMul: {a.Describe()} and {b.Describe()} (transposeB={transposeB}) do not match");
        var prec = Precision.Current;
        var y = Tensor.Empty(m, n);
        MatMulRaw(a.Handle, false, b.Handle, transposeB, IntPtr.Zero, y.Handle, m, k, n, prec);
        OpTrace.Add("MatMul", y, [a, b], ("transB", transposeB ? 1 : 0));
        return Tape.Record("MatMul", y, [a, b], gy =>
        {
            Tensor? ga = null, gb = null;
            if (Needs(a))
            {
                // dA = dY · Bᵀ  (B as stored is [K,N], or [N,K] when transposed)
                ga = Tensor.Empty(m, k);
                MatMulRaw(gy.Handle, false, b.Handle, !transposeB, IntPtr.Zero, ga.Handle, m, n, k, prec);
            }
            if (Needs(b))
            {
                gb = Tensor.Empty(b.ShapeArray());
                if (transposeB) MatMulRaw(gy.Handle, true, a.Handle, false, IntPtr.Zero, gb.Handle, n, m, k, prec); // dB = dYᵀ·A
                else MatMulRaw(a.Handle, true, gy.Handle, false, IntPtr.Zero, gb.Handle, k, m, n, prec);           // dB = Aᵀ·dY
            }
            return [ga, gb];
        });
    }

    private static Tensor SumRows(Tensor g, int rows, int cols)
    {
        var s = Tensor.Zeros(cols);
        var d = s.Data;
        var src = g.Data;
        for (var r = 0; r < rows; r++) TensorPrimitives.Add(d, src.Slice(r * cols, cols), d);
        return s;
    }

    /// <summary>
    /// dst [M,N] = op(A) [M,K] · op(B) [K,N] (+ bias [N]) where op transposes a stored matrix when asked:
    /// A is stored [M,K] (or [K,M] if transA), B stored [K,N] (or [N,K] if transB).
    /// </summary>
    private static unsafe void MatMulRaw(IntPtr a, bool transA, IntPtr b, bool transB, IntPtr bias, IntPtr dst,
        int m, int k, int n, ComputePrecision prec)
    {
        var hasBias = bias != IntPtr.Zero;
        var key = $"matmul.{m},{k},{n},{transA},{transB},{hasBias},{prec}";
        var plan = DnnlPlan.GetOrCreate(key, () =>
        {
            var compute = prec == ComputePrecision.BF16 ? Dnnl.BF16 : Dnnl.F32;
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
        if (hasBias) plan.Execute([a, b, bias, dst]);
        else plan.Execute([a, b, dst]);
    }
}
