using System.Numerics.Tensors;
using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Native;
using Reid.Engine.Tensors;
using Tensor = Reid.Engine.Tensors.Tensor;

namespace Reid.Engine.Functional;

/// <summary>Ops written in C# (SIMD through TensorPrimitives, split across cores for large tensors).</summary>
public static partial class Ops
{
    private const int ParallelThreshold = 1 << 16;

    /// <summary>Runs body(start, length) over [0, count) in chunks, in parallel when count is large.</summary>
    internal static void Chunked(int count, Action<int, int> body)
    {
        if (count < ParallelThreshold)
        {
            body(0, count);
            return;
        }
        var parts = Math.Min(Environment.ProcessorCount * 4, count / (ParallelThreshold / 4));
        var size = (count + parts - 1) / parts;
        Parallel.For(0, parts, i =>
        {
            var start = i * size;
            var len = Math.Min(size, count - start);
            if (len > 0) body(start, len);
        });
    }

    private static Span<float> Span(Tensor t, int start, int length) => t.PlainBuffer.Floats(start, length);

    private static Span<float> Raw(Tensor t, int start, int length) => t.Buffer.Floats(start, length);

    /// <summary>a + b (same shape; residual connections).</summary>
    public static Tensor Add(Tensor a, Tensor b) => Add(a, b, inPlace: false);

    /// <summary>
    /// a + b written over a's buffer (a residual sum onto the block's last BN output: one activation less per
    /// block in training). Safe when a is the output of Conv2d, BatchNorm, Linear or Add, whose backward does
    /// not read its output; otherwise the out-of-place op. Using a in another op afterwards raises an error
    /// in Backward.
    /// </summary>
    public static Tensor AddInPlace(Tensor a, Tensor b)
    {
        if (a.GradFn is not null && a.GradFn.Op is not ("Conv2d" or "BatchNorm" or "Linear" or "Add")) return Add(a, b);
        if (a.GradFn is null && a.RequiresGrad) return Add(a, b);
        return Add(a, b, inPlace: true);
    }

    private static Tensor Add(Tensor a, Tensor b, bool inPlace)
    {
        if (!a.SameShape(b)) throw new ReidException($"Add: {a.Describe()} and {b.Describe()} differ in shape");
        Tensor y;
        // A residual input in another layout is moved to the layout of the other operand (one reorder) so
        // the sum stays in oneDNN's blocked layout for the next convolution. Mixing bf16 and f32, the bf16
        // operand moves (f32 holds every bf16 value exactly).
        if (a.IsBf16 != b.IsBf16)
        {
            if (a.IsBf16) a.ConvertTo(b.Layout);
            else b.ConvertTo(a.Layout);
        }
        else if (a.Layout is not null) b.ConvertTo(a.Layout);
        else if (b.Layout is not null) a.ConvertTo(b.Layout);
        if (a.Layout is { IsBf16: true } low && NativeLayout.Same(low, b.Layout))
        {
            // bf16 activations (bf16 training step): oneDNN's binary add, result rounded to bf16.
            y = inPlace ? a.AliasForInPlace() : Tensor.Native(a.ShapeArray(), low);
            DnnlPlan.Add(low.Md, low.Key, a.Buffer, b.Buffer, y.Buffer);
        }
        else if (a.Layout is not null && NativeLayout.Same(a.Layout, b.Layout))
        {
            // Residual sums of two blocked conv/BN outputs: add the raw buffers, keep the layout.
            y = inPlace ? a.AliasForInPlace() : Tensor.Native(a.ShapeArray(), a.Layout);
            Chunked(a.StorageCount, (s, n) => TensorPrimitives.Add(Raw(a, s, n), Raw(b, s, n), Raw(y, s, n)));
        }
        else
        {
            a.EnsurePlain();
            b.EnsurePlain();
            y = inPlace ? a.AliasForInPlace() : Tensor.Empty(a.ShapeArray());
            Chunked(a.Count, (s, n) => TensorPrimitives.Add(Span(a, s, n), Span(b, s, n), Span(y, s, n)));
        }
        OpTrace.Add("Add", y, [a, b]);
        // Backward reads neither operand, so an in-place ReLU may overwrite the sum (and a) afterwards.
        return Tape.Record("Add", y, [a, b], g => [g, g], readsInputs: false, []);
    }

    /// <summary>a − b (same shape).</summary>
    public static Tensor Sub(Tensor a, Tensor b)
    {
        if (!a.SameShape(b)) throw new ReidException($"Sub: {a.Describe()} and {b.Describe()} differ in shape");
        var y = Tensor.Empty(a.ShapeArray());
        Chunked(a.Count, (s, n) => TensorPrimitives.Subtract(Span(a, s, n), Span(b, s, n), Span(y, s, n)));
        OpTrace.Add("Sub", y, [a, b]);
        return Tape.Record("Sub", y, [a, b], g =>
        {
            var gb = Tensor.Empty(b.ShapeArray());
            TensorPrimitives.Negate(g.Data, gb.Data);
            return [g, gb];
        });
    }

    /// <summary>x · s for a constant s.</summary>
    public static Tensor Scale(Tensor x, float s)
    {
        var y = Tensor.Empty(x.ShapeArray());
        Chunked(x.Count, (st, n) => TensorPrimitives.Multiply(Span(x, st, n), s, Span(y, st, n)));
        OpTrace.Add("Mul", y, [x], ("scalar", s));
        return Tape.Record("Scale", y, [x], g =>
        {
            var gx = Tensor.Empty(x.ShapeArray());
            TensorPrimitives.Multiply(g.Data, s, gx.Data);
            return [gx];
        });
    }

    /// <summary>
    /// a ⊙ b where b has a's shape, is a single value, or broadcasts over trailing axes — e.g. a [N,C,H,W] and
    /// a channel gate b [N,C,1,1] or [1,C,1,1] (squeeze-excitation, OSNet aggregation gates).
    /// </summary>
    public static Tensor Mul(Tensor a, Tensor b)
    {
        var (outer, inner, bDivisor) = Broadcast(a, b);
        if (a.Layout is not null && IsChannelGate(a, b)) return GateNative(a, b, outer, inner, bDivisor);
        var y = Tensor.Empty(a.ShapeArray());
        // a viewed as [outer, inner]; row r multiplies by b[r % bDivisor] (or elementwise when inner == 1 and same shape).
        if (a.SameShape(b))
            Chunked(a.Count, (s, n) => TensorPrimitives.Multiply(Span(a, s, n), Span(b, s, n), Span(y, s, n)));
        else
        {
            var bd = b;
            Parallel.For(0, outer, r => TensorPrimitives.Multiply(Span(a, r * inner, inner), bd.Data[r % bDivisor], Span(y, r * inner, inner)));
        }
        OpTrace.Add("Mul", y, [a, b]);
        return Tape.Record("Mul", y, [a, b], g => MulGrads(a, b, g, outer, inner, bDivisor));
    }

    /// <summary>A [N,C,1,1] or [1,C,1,1] gate for a [N,C,H,W] input (OSNet's channel gates, squeeze-excitation).</summary>
    private static bool IsChannelGate(Tensor a, Tensor b) =>
        a.Rank == 4 && b.Rank == 4 && b.Dim(2) == 1 && b.Dim(3) == 1 && b.Dim(1) == a.Dim(1)
        && (b.Dim(0) == a.Dim(0) || b.Dim(0) == 1) && !a.SameShape(b);

    /// <summary>
    /// A channel gate applied to an input held in a oneDNN layout (blocked, maybe bf16): oneDNN's broadcasting
    /// binary multiply keeps the layout, so the gated features feed the next convolution without reorders.
    /// </summary>
    private static Tensor GateNative(Tensor a, Tensor b, int outer, int inner, int bDivisor)
    {
        var layout = a.Layout!;
        var bShape = b.ShapeArray();
        GateLike(b, layout, a.ShapeArray());
        var y = Tensor.Native(a.ShapeArray(), layout);
        DnnlPlan.Binary(Dnnl.BinaryMul, layout.Md, b.Md, layout.Md, $"{layout.Key}x{b.LayoutKey}.{string.Join('x', bShape)}",
            a.Buffer, b.Buffer, y.Buffer);
        OpTrace.Add("Mul", y, [a, b]);
        return Tape.Record("Mul", y, [a, b], g =>
        {
            // a may have been converted to plain since the forward (a managed op read it): use the managed gradients.
            if (a.Layout is not { } aLayout) return MulGrads(a, b, g, outer, inner, bDivisor);
            var gIn = g.InLayout(aLayout);
            try
            {
                Tensor? ga = null, gb = null;
                if (Needs(a))
                {
                    GateLike(b, aLayout, a.ShapeArray());
                    ga = Tensor.Native(a.ShapeArray(), aLayout);
                    DnnlPlan.Binary(Dnnl.BinaryMul, aLayout.Md, b.Md, aLayout.Md, $"{aLayout.Key}x{b.LayoutKey}.{string.Join('x', bShape)}",
                        gIn.Buffer, b.Buffer, ga.Buffer);
                }
                if (Needs(b))
                {
                    // d gate = Σ over H·W (and N for a shared gate) of g·a.
                    using var product = Tensor.Native(a.ShapeArray(), aLayout);
                    DnnlPlan.Binary(Dnnl.BinaryMul, aLayout.Md, aLayout.Md, aLayout.Md, aLayout.Key, gIn.Buffer, a.Buffer, product.Buffer);
                    using var sums = ChannelSums(product);
                    gb = Tensor.Zeros(bShape);
                    var s = sums.Data;
                    var gbd = gb.Data;
                    for (var r = 0; r < s.Length; r++) gbd[r % bDivisor] += s[r];
                }
                return [ga, gb];
            }
            finally
            {
                if (!ReferenceEquals(gIn, g)) gIn.Dispose();
            }
        });
    }

    /// <summary>
    /// Moves a [N,C,1,1]/[1,C,1,1] gate into the format of the input it scales (keeping its element type, so
    /// values are unchanged): oneDNN 2.6's jit binary broadcasts only a src1 laid out like src0 and runs a
    /// gate in any other layout through its reference kernel, two orders of magnitude slower.
    /// </summary>
    private static void GateLike(Tensor gate, NativeLayout input, int[] inputShape)
    {
        var tag = DnnlRuntime.TagOf(input.Md, inputShape);
        if (tag == 0) return;
        var shape = gate.ShapeArray();
        var md = DnnlRuntime.TaggedDesc(shape, gate.IsBf16 ? Dnnl.BF16 : Dnnl.F32, tag);
        gate.ConvertTo(NativeLayout.From(md, shape));
    }

    /// <summary>
    /// Σ over H·W of each channel of an [N,C,H,W] tensor held in a oneDNN layout, as plain f32 [N,C].
    /// oneDNN 2.6 reduces blocked and nhwc sources only with its reference kernel (~100x slower than a pass
    /// over memory); those layouts are a batch of dense [H·W, block] matrices, so a matmul with a row of ones
    /// sums them (f32 accumulation and result). Plain sources reduce their rows with the jit reduction.
    /// </summary>
    private static Tensor ChannelSums(Tensor x)
    {
        var layout = x.Layout!;
        int n = x.Dim(0), c = x.Dim(1), hw = x.Dim(2) * x.Dim(3);
        var shape = x.ShapeArray();
        var dataType = DnnlRuntime.DataType(layout.Md);
        var sums = Tensor.Empty(n, c);
        var block = DnnlRuntime.ChannelBlock(layout.Md, shape);
        if (block == 0)
        {
            DnnlPlan.Reduce(Dnnl.ReductionSum, layout.Md, DnnlRuntime.PlainDesc([n, c, 1, 1], Dnnl.F32), layout.Key, x.Buffer, sums.Buffer);
            return sums;
        }
        if (block == 1)
        {
            DnnlPlan.Reduce(Dnnl.ReductionSum, DnnlRuntime.PlainDesc([n * c, hw], dataType), DnnlRuntime.PlainDesc([n * c, 1], Dnnl.F32),
                $"rows.{n * c}x{hw}.{dataType}", x.Buffer, sums.Buffer);
            return sums;
        }
        var stored = (c + block - 1) / block * block;
        var batches = n * stored / block;
        var dst = stored == c ? sums : Tensor.Empty(n, stored);
        DnnlPlan.MatMul(DnnlRuntime.PlainDesc([1, 1, hw], dataType), DnnlRuntime.PlainDesc([batches, hw, block], dataType),
            DnnlRuntime.PlainDesc([batches, 1, block], Dnnl.F32), $"ones.{batches}x{hw}x{block}.{dataType}",
            OnesRow(hw, dataType), x.Buffer, dst.Buffer);
        if (stored == c) return sums;
        using (dst)
        {
            for (var i = 0; i < n; i++) Span(dst, i * stored, c).CopyTo(Span(sums, i * c, c));
        }
        return sums;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int, int), NativeBuffer> Ones = new();

    /// <summary>A row of <paramref name="length"/> ones in f32 or bf16, allocated once per size for the process.</summary>
    private static NativeBuffer OnesRow(int length, int dataType) => Ones.GetOrAdd((length, dataType), key =>
    {
        var (len, type) = key;
        var row = NativeMemoryPool.Permanent((long)len * (type == Dnnl.BF16 ? 2 : 4));
        if (type == Dnnl.BF16) row.Halves(len).Fill(0x3F80);
        else row.Floats(0, len).Fill(1f);
        return row;
    });

    private static Tensor?[] MulGrads(Tensor a, Tensor b, Tensor g, int outer, int inner, int bDivisor)
    {
        {
            Tensor? ga = null, gb = null;
            if (Needs(a))
            {
                ga = Tensor.Empty(a.ShapeArray());
                if (a.SameShape(b)) TensorPrimitives.Multiply(g.Data, b.Data, ga.Data);
                else Parallel.For(0, outer, r => TensorPrimitives.Multiply(Span(g, r * inner, inner), b.Data[r % bDivisor], Span(ga, r * inner, inner)));
            }
            if (Needs(b))
            {
                gb = Tensor.Zeros(b.ShapeArray());
                if (a.SameShape(b)) TensorPrimitives.Multiply(g.Data, a.Data, gb.Data);
                else
                {
                    var rows = new float[outer];
                    Parallel.For(0, outer, r => rows[r] = TensorPrimitives.Dot(Span(g, r * inner, inner), Span(a, r * inner, inner)));
                    var gbd = gb.Data;
                    for (var r = 0; r < outer; r++) gbd[r % bDivisor] += rows[r];
                }
            }
            return [ga, gb];
        }
    }

    /// <summary>How b broadcasts onto a: a is seen as [outer, inner] rows, row r uses b[r % bDivisor].</summary>
    private static (int Outer, int Inner, int BDivisor) Broadcast(Tensor a, Tensor b)
    {
        if (a.SameShape(b)) return (a.Count, 1, a.Count);
        if (b.Count == 1) return (1, a.Count, 1);
        if (b.Rank == a.Rank)
        {
            // b = [B0, ..., Bk, 1, ..., 1] where each Bi equals a's size or (leading axes only) 1.
            var last = b.Rank - 1;
            while (last >= 0 && b.Dim(last) == 1) last--;
            var ok = last >= 0;
            var lead = 0;
            while (ok && lead <= last && b.Dim(lead) == 1) lead++;
            for (var i = lead; ok && i <= last; i++) ok = b.Dim(i) == a.Dim(i);
            if (ok)
            {
                var inner = 1;
                for (var i = last + 1; i < a.Rank; i++) inner *= a.Dim(i);
                var outer = a.Count / inner;
                return (outer, inner, b.Count);
            }
        }
        throw new ReidException($"Mul: {b.Describe()} does not broadcast onto {a.Describe()} (use the same shape, a scalar or a [N,C,1,1] gate)");
    }

    /// <summary>Sum of all elements, as a 1-element tensor.</summary>
    public static Tensor Sum(Tensor x)
    {
        var y = Tensor.Scalar(TensorPrimitives.Sum(x.Data));
        OpTrace.Add("ReduceSum", y, [x], ("keepdims", 0));
        return Tape.Record("Sum", y, [x], g => [Tensor.Full(g.Data[0], x.ShapeArray())]);
    }

    /// <summary>Mean of all elements, as a 1-element tensor.</summary>
    public static Tensor Mean(Tensor x)
    {
        if (x.Count == 0) throw new ReidException($"Mean of empty {x.Describe()}");
        var y = Tensor.Scalar(TensorPrimitives.Sum(x.Data) / x.Count);
        OpTrace.Add("ReduceMean", y, [x], ("keepdims", 0));
        return Tape.Record("Mean", y, [x], g => [Tensor.Full(g.Data[0] / x.Count, x.ShapeArray())]);
    }

    /// <summary>Concatenates along an axis (channels: axis 1); other axes must agree.</summary>
    public static Tensor Concat(int axis, params Tensor[] xs)
    {
        if (xs.Length == 0) throw new ReidException("Concat needs at least one tensor");
        var first = xs[0];
        var a = first.NormalizeAxis(axis);
        var total = 0;
        foreach (var t in xs)
        {
            var ok = t.Rank == first.Rank;
            for (var i = 0; ok && i < t.Rank; i++) ok = i == a || t.Dim(i) == first.Dim(i);
            if (!ok) throw new ReidException($"Concat on axis {a}: {t.Describe()} does not match {first.Describe()}");
            total += t.Dim(a);
        }
        var shape = first.ShapeArray();
        shape[a] = total;
        var outer = 1;
        for (var i = 0; i < a; i++) outer *= shape[i];
        var innerUnit = 1;
        for (var i = a + 1; i < shape.Length; i++) innerUnit *= shape[i];
        var y = Tensor.Empty(shape);
        var rowOut = total * innerUnit;
        Parallel.For(0, outer, r =>
        {
            var offset = 0;
            foreach (var t in xs)
            {
                var len = t.Dim(a) * innerUnit;
                Span(t, r * len, len).CopyTo(Span(y, r * rowOut + offset, len));
                offset += len;
            }
        });
        OpTrace.Add("Concat", y, xs, ("axis", a));
        return Tape.Record("Concat", y, xs, g =>
        {
            var grads = new Tensor?[xs.Length];
            var offset = 0;
            for (var j = 0; j < xs.Length; j++)
            {
                var t = xs[j];
                var len = t.Dim(a) * innerUnit;
                if (Needs(t))
                {
                    var gt = Tensor.Empty(t.ShapeArray());
                    var off = offset;
                    Parallel.For(0, outer, r => Span(g, r * rowOut + off, len).CopyTo(Span(gt, r * len, len)));
                    grads[j] = gt;
                }
                offset += len;
            }
            return grads;
        });
    }

    /// <summary>Mean over H·W: [N,C,H,W] → [N,C,1,1].</summary>
    public static Tensor GlobalAvgPool(Tensor x)
    {
        if (x.Rank != 4) throw new ReidException($"GlobalAvgPool expects [N,C,H,W] but got {x.Describe()}");
        int rows = x.Dim(0) * x.Dim(1), hw = x.Dim(2) * x.Dim(3);
        var y = Tensor.Empty(x.Dim(0), x.Dim(1), 1, 1);
        var inv = 1f / hw;
        var xLayout = x.Layout;
        if (xLayout is not null)
        {
            // Read a blocked (maybe bf16) input where it is: converting it to plain would move it out of the
            // layout its other consumers (a gate's Mul, the next convolution) read.
            using var sums = ChannelSums(x);
            TensorPrimitives.Multiply(sums.Data, inv, y.Data);
        }
        else Parallel.For(0, rows, r => y.Data[r] = TensorPrimitives.Sum(Span(x, r * hw, hw)) * inv);
        OpTrace.Add("GlobalAveragePool", y, [x]);
        return Tape.Record("GlobalAvgPool", y, [x], g =>
        {
            // The gradient goes out in the input's layout (bf16 blocked in a bf16 step), where the gradient
            // from x's other consumer (a gate's Mul) is: the two add without conversions.
            if (xLayout is not null) return [GlobalAvgPoolBackward(g, xLayout, x.ShapeArray())];
            var gx = Tensor.Empty(x.ShapeArray());
            Parallel.For(0, rows, r => Span(gx, r * hw, hw).Fill(g.Data[r] * inv));
            return [gx];
        });
    }

    /// <summary>g [N,C,1,1] / (H·W) spread over [N,C,H,W] in <paramref name="layout"/>: average pooling's backward.</summary>
    private static Tensor GlobalAvgPoolBackward(Tensor g, NativeLayout layout, int[] shape)
    {
        int n = shape[0], c = shape[1], h = shape[2], w = shape[3];
        var plan = DnnlPrimitives.GlobalAvgPoolBackward($"gap.bwd.{n},{c},{h},{w}.{layout.Key}.{g.LayoutKey}", layout.Md, g.Md, n, c, h, w);
        var gx = Tensor.Native(shape, layout);
        plan.Execute([g.Buffer, gx.Buffer]);
        return gx;
    }

    /// <summary>
    /// Generalised-mean pooling (Radenović et al.): (mean over H·W of clamp(x, eps)^p)^(1/p), [N,C,H,W] →
    /// [N,C,1,1]; p is a 1-element tensor (learnable in GeMPool2d).
    /// </summary>
    public static Tensor GeM(Tensor x, Tensor p, float eps = 1e-6f)
    {
        if (x.Rank != 4) throw new ReidException($"GeM expects [N,C,H,W] but got {x.Describe()}");
        if (p.Count != 1) throw new ReidException($"GeM exponent must be a single value, got {p.Describe()}");
        var pv = p.Data[0];
        if (!(pv > 0)) throw new ReidException($"GeM exponent must be positive, got {pv}");
        int rows = x.Dim(0) * x.Dim(1), hw = x.Dim(2) * x.Dim(3);
        var y = Tensor.Empty(x.Dim(0), x.Dim(1), 1, 1);
        var means = new double[rows];
        // c^p as exp(p·ln c) over whole rows with TensorPrimitives: a scalar Math.Pow per element made GeM cost
        // more than a third of an OSNet x0.25 training step.
        Parallel.For(0, rows, () => new float[hw], (r, _, powers) =>
        {
            PowersAndLogs(Span(x, r * hw, hw), (float)pv, eps, powers, default);
            means[r] = TensorPrimitives.Sum<float>(powers) / (double)hw;
            y.Data[r] = (float)Math.Pow(means[r], 1.0 / pv);
            return powers;
        }, _ => { });
        OpTrace.Add("GeM", y, [x, p], ("eps", eps));
        return Tape.Record("GeM", y, [x, p], g =>
        {
            Tensor? gx = Needs(x) ? Tensor.Empty(x.ShapeArray()) : null;
            var gpRows = new double[rows];
            Parallel.For(0, rows, () => (new float[hw], new float[hw]), (r, _, buffers) =>
            {
                var (powers, logs) = buffers;
                var src = Span(x, r * hw, hw);
                var m = means[r];
                var yv = Math.Pow(m, 1.0 / pv);
                var gy = (double)g.Data[r];
                // y = m^(1/p), m = mean(c^p): dy/dc = y / (m · hw) · c^(p−1); dy/dp = y · (−ln m / p² + E[c^p ln c] / (p·m))
                PowersAndLogs(src, (float)pv, eps, powers, logs);
                var eLog = TensorPrimitives.Dot<float>(powers, logs) / (double)hw;
                if (gx is not null)
                {
                    var gxRow = Span(gx, r * hw, hw);
                    TensorPrimitives.Multiply(logs, (float)(pv - 1), gxRow);
                    TensorPrimitives.Exp(gxRow, gxRow);                               // c^(p−1)
                    TensorPrimitives.Multiply(gxRow, (float)(gy * yv / (m * hw)), gxRow);
                    for (var i = 0; i < hw; i++) if (!(src[i] > eps)) gxRow[i] = 0f;  // clamped inputs pass no gradient
                }
                gpRows[r] = gy * yv * (-Math.Log(m) / (pv * pv) + eLog / (pv * m));
                return buffers;
            }, _ => { });
            Tensor? gp = null;
            if (Needs(p)) gp = Tensor.Scalar((float)gpRows.Sum()).Reshape(p.ShapeArray()).Detach();
            return [gx, gp];
        });
    }

    /// <summary>powers = max(c, eps)^p and, when asked, logs = ln max(c, eps), both vectorised.</summary>
    private static void PowersAndLogs(ReadOnlySpan<float> c, float p, float eps, Span<float> powers, Span<float> logs)
    {
        var ln = logs.IsEmpty ? powers : logs;
        TensorPrimitives.Max(c, eps, ln);
        TensorPrimitives.Log(ln, ln);
        TensorPrimitives.Multiply(ln, p, powers);
        TensorPrimitives.Exp(powers, powers);
    }

    /// <summary>Rows of x [N,D] divided by their L2 norm (at least eps).</summary>
    public static Tensor L2Normalize(Tensor x, float eps = 1e-12f)
    {
        if (x.Rank != 2) throw new ReidException($"L2Normalize expects [N,D] but got {x.Describe()}");
        int n = x.Dim(0), d = x.Dim(1);
        var norms = new float[n];
        var y = Tensor.Empty(n, d);
        Parallel.For(0, n, r =>
        {
            norms[r] = Math.Max(TensorPrimitives.Norm(Span(x, r * d, d)), eps);
            TensorPrimitives.Divide(Span(x, r * d, d), norms[r], Span(y, r * d, d));
        });
        OpTrace.Add("LpNormalization", y, [x], ("axis", -1), ("p", 2));
        return Tape.Record("L2Normalize", y, [x], g =>
        {
            var gx = Tensor.Empty(n, d);
            Parallel.For(0, n, r =>
            {
                // dx = (g − y·(y·g)) / ‖x‖ (when the norm is above eps)
                var gy = Span(g, r * d, d);
                var yr = Span(y, r * d, d);
                var gr = Span(gx, r * d, d);
                var dot = TensorPrimitives.Dot(yr, gy);
                TensorPrimitives.MultiplyAdd(yr, -dot, gy, gr);
                TensorPrimitives.Divide(gr, norms[r], gr);
            });
            return [gx];
        });
    }

    /// <summary>Softmax over the last axis of [N,D].</summary>
    public static Tensor Softmax(Tensor x)
    {
        if (x.Rank != 2) throw new ReidException($"Softmax expects [N,D] but got {x.Describe()}");
        int n = x.Dim(0), d = x.Dim(1);
        var y = Tensor.Empty(n, d);
        Parallel.For(0, n, r => TensorPrimitives.SoftMax(Span(x, r * d, d), Span(y, r * d, d)));
        OpTrace.Add("Softmax", y, [x], ("axis", -1));
        return Tape.Record("Softmax", y, [x], g =>
        {
            var gx = Tensor.Empty(n, d);
            Parallel.For(0, n, r =>
            {
                var yr = Span(y, r * d, d);
                var gr = Span(g, r * d, d);
                var dot = TensorPrimitives.Dot(yr, gr);
                var o = Span(gx, r * d, d);
                TensorPrimitives.Subtract(gr, dot, o);
                TensorPrimitives.Multiply(o, yr, o);
            });
            return [gx];
        });
    }

    /// <summary>Log-softmax over the last axis of [N,D] (numerically stable).</summary>
    public static Tensor LogSoftmax(Tensor x)
    {
        if (x.Rank != 2) throw new ReidException($"LogSoftmax expects [N,D] but got {x.Describe()}");
        int n = x.Dim(0), d = x.Dim(1);
        var y = Tensor.Empty(n, d);
        Parallel.For(0, n, r =>
        {
            var xr = Span(x, r * d, d);
            var yr = Span(y, r * d, d);
            var max = TensorPrimitives.Max(xr);
            TensorPrimitives.Subtract(xr, max, yr);
            double sum = 0;
            foreach (var v in yr) sum += Math.Exp(v);
            TensorPrimitives.Subtract(yr, (float)Math.Log(sum), yr);
        });
        OpTrace.Add("LogSoftmax", y, [x], ("axis", -1));
        return Tape.Record("LogSoftmax", y, [x], g =>
        {
            var gx = Tensor.Empty(n, d);
            Parallel.For(0, n, r =>
            {
                // dx = g − softmax · Σg
                var gr = Span(g, r * d, d);
                var yr = Span(y, r * d, d);
                var o = Span(gx, r * d, d);
                var sg = TensorPrimitives.Sum(gr);
                TensorPrimitives.Exp(yr, o);
                TensorPrimitives.MultiplyAdd(o, -sg, gr, o);
            });
            return [gx];
        });
    }

    /// <summary>Inverted dropout: zeroes a fraction p of values and scales the rest by 1/(1−p); identity when not training.</summary>
    public static Tensor Dropout(Tensor x, float p, bool training, Rng? rng = null)
    {
        if (p < 0 || p >= 1) throw new ReidException($"Dropout probability must be in [0, 1), got {p}");
        if (!training || p == 0)
        {
            var same = Tensor.Empty(x.ShapeArray());
            x.Data.CopyTo(same.Data);
            OpTrace.Add("Dropout", same, [x], ("ratio", p));
            return Tape.Record("Dropout", same, [x], g => [g]);
        }
        rng ??= Rng.Shared;
        var mask = Tensor.Empty(x.ShapeArray());
        var keep = 1f / (1 - p);
        var md = mask.Data;
        for (var i = 0; i < md.Length; i++) md[i] = rng.NextDouble() >= p ? keep : 0f;
        var y = Tensor.Empty(x.ShapeArray());
        TensorPrimitives.Multiply(x.Data, md, y.Data);
        OpTrace.Add("Dropout", y, [x], ("ratio", p));
        if (!Tape.NeedsGrad(x))
        {
            mask.Dispose();
            return y;
        }
        return Tape.Record("Dropout", y, [x], g =>
        {
            var gx = Tensor.Empty(x.ShapeArray());
            TensorPrimitives.Multiply(g.Data, mask.Data, gx.Data);
            return [gx];
        }, mask);
    }
}
