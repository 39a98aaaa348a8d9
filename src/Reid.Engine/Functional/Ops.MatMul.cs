using System.Numerics.Tensors;
using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Native;
using Reid.Engine.Tensors;
using Tensor = Reid.Engine.Tensors.Tensor;

namespace Reid.Engine.Functional;

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
        MatMulRaw(x.PlainBuffer, false, w.PlainBuffer, true, b?.PlainBuffer ?? NativeBuffer.None, y.PlainBuffer, n, k, m, prec);
        OpTrace.Add("Gemm", y, b is null ? [x, w] : [x, w, b], ("transB", 1));
        if (!Tape.NeedsGrad(x, w, b)) return y;
        Tensor[] inputs = b is null ? [x, w] : [x, w, b];
        return Tape.Record("Linear", y, inputs, gy =>
        {
            Tensor? gx = null, gw = null, gb = null;
            if (Needs(x))
            {
                gx = Tensor.Empty(n, k);
                MatMulRaw(gy.PlainBuffer, false, w.PlainBuffer, false, NativeBuffer.None, gx.PlainBuffer, n, m, k, prec);
            }
            if (Needs(w))
            {
                gw = Tensor.Empty(m, k);
                MatMulRaw(gy.PlainBuffer, true, x.PlainBuffer, false, NativeBuffer.None, gw.PlainBuffer, m, n, k, prec);
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
        MatMulRaw(a.PlainBuffer, false, b.PlainBuffer, transposeB, NativeBuffer.None, y.PlainBuffer, m, k, n, prec);
        OpTrace.Add("MatMul", y, [a, b], ("transB", transposeB ? 1 : 0));
        return Tape.Record("MatMul", y, [a, b], gy =>
        {
            Tensor? ga = null, gb = null;
            if (Needs(a))
            {
                // dA = dY · Bᵀ  (B as stored is [K,N], or [N,K] when transposed)
                ga = Tensor.Empty(m, k);
                MatMulRaw(gy.PlainBuffer, false, b.PlainBuffer, !transposeB, NativeBuffer.None, ga.PlainBuffer, m, n, k, prec);
            }
            if (Needs(b))
            {
                gb = Tensor.Empty(b.ShapeArray());
                if (transposeB) MatMulRaw(gy.PlainBuffer, true, a.PlainBuffer, false, NativeBuffer.None, gb.PlainBuffer, n, m, k, prec); // dB = dYᵀ·A
                else MatMulRaw(a.PlainBuffer, true, gy.PlainBuffer, false, NativeBuffer.None, gb.PlainBuffer, k, m, n, prec);           // dB = Aᵀ·dY
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
    private static void MatMulRaw(NativeBuffer a, bool transA, NativeBuffer b, bool transB, NativeBuffer bias, NativeBuffer dst,
        int m, int k, int n, ComputePrecision prec)
    {
        var plan = DnnlPrimitives.MatMul(m, k, n, transA, transB, !bias.IsNone, prec == ComputePrecision.BF16);
        if (!bias.IsNone) plan.Execute([a, b, bias, dst]);
        else plan.Execute([a, b, dst]);
    }
}
