using Reid.Core;
using Reid.Training.Autograd;
using Reid.Training.Native;
using Reid.Training.Tensors;

namespace Reid.Training.Layers;

public static partial class Ops
{
    internal static bool Needs(Tensor t) => t.RequiresGrad || t.GradFn is not null;

    /// <summary>
    /// Batch normalisation of x [N,C,H,W] (or [N,C]) over N·H·W per channel, on oneDNN. Training uses batch
    /// statistics and updates the running ones in place (momentum as in PyTorch, unbiased variance);
    /// evaluation uses the running statistics.
    /// </summary>
    public static unsafe Tensor BatchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        bool training, float momentum = 0.1f, float eps = 1e-5f)
    {
        if (x.Rank != 4 && x.Rank != 2) throw new ReidException($"BatchNorm expects [N,C,H,W] or [N,C] but got {x.Describe()}");
        int n = x.Dim(0), c = x.Dim(1), h = x.Rank == 4 ? x.Dim(2) : 1, w = x.Rank == 4 ? x.Dim(3) : 1;
        foreach (var t in new[] { gamma, beta, runningMean, runningVar })
            if (t.Rank != 1 || t.Dim(0) != c)
                throw new ReidException($"BatchNorm: {t.Describe()} does not match {c} channels of {x.Describe()}");
        if (training && n * h * w < 2)
            throw new ReidException($"BatchNorm in training mode needs more than one value per channel, got {x.Describe()}");

        var key = $"{n},{c},{h},{w},{eps}";
        var y = Tensor.Empty(x.ShapeArray());
        Tensor mean, variance;
        if (training)
        {
            mean = Tensor.Empty(c);
            variance = Tensor.Empty(c);
            var plan = DnnlPlan.GetOrCreate("bn.fwd.train." + key, () => BnForward(n, c, h, w, eps, true));
            plan.Execute([x.Handle, gamma.Handle, beta.Handle, y.Handle, mean.Handle, variance.Handle]);
            var m = mean.Data; var v = variance.Data; var rm = runningMean.Data; var rv = runningVar.Data;
            var count = (float)n * h * w;
            var unbias = count / (count - 1);
            for (var i = 0; i < c; i++)
            {
                rm[i] = (1 - momentum) * rm[i] + momentum * m[i];
                rv[i] = (1 - momentum) * rv[i] + momentum * v[i] * unbias;
            }
        }
        else
        {
            mean = runningMean;
            variance = runningVar;
            var plan = DnnlPlan.GetOrCreate("bn.fwd.eval." + key, () => BnForward(n, c, h, w, eps, false));
            plan.Execute([x.Handle, mean.Handle, variance.Handle, gamma.Handle, beta.Handle, y.Handle]);
        }
        OpTrace.Add("BatchNormalization", y, [x, gamma, beta, runningMean, runningVar],
            ("epsilon", eps), ("momentum", momentum), ("training", training));
        if (!Tape.NeedsGrad(x, gamma, beta))
        {
            if (training) { mean.Dispose(); variance.Dispose(); }
            return y;
        }
        // Eval-mode backward reads the running statistics: snapshot them, the optimiser step may not change
        // them but a later training forward would.
        var savedMean = training ? mean : runningMean.Clone();
        var savedVar = training ? variance : runningVar.Clone();
        return Tape.Record("BatchNorm", y, [x, gamma, beta], gy =>
        {
            var gx = Tensor.Empty(x.ShapeArray());
            var gg = Tensor.Empty(c);
            var gb = Tensor.Empty(c);
            var plan = DnnlPlan.GetOrCreate($"bn.bwd.{training}.{key}", () => BnBackward(n, c, h, w, eps, training));
            plan.Execute([x.Handle, savedMean.Handle, savedVar.Handle, gy.Handle, gamma.Handle, beta.Handle, gx.Handle, gg.Handle, gb.Handle]);
            return [Needs(x) ? gx : Drop(gx), Needs(gamma) ? gg : Drop(gg), Needs(beta) ? gb : Drop(gb)];
        }, savedMean, savedVar);
    }

    private static Tensor? Drop(Tensor t)
    {
        t.Dispose();
        return null;
    }

    private static uint BnFlags(bool training) => Dnnl.UseScale | Dnnl.UseShift | (training ? 0 : Dnnl.UseGlobalStats);

    private static unsafe DnnlPlan BnForward(int n, int c, int h, int w, float eps, bool training)
    {
        var data = DnnlRuntime.PlainDesc([n, c, h, w], Dnnl.F32);
        var vec = DnnlRuntime.PlainDesc([c], Dnnl.F32);
        var desc = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.batch_normalization_forward_desc_init(&desc,
            training ? Dnnl.ForwardTraining : Dnnl.ForwardInference, &data, eps, BnFlags(training)), "batch_normalization_forward_desc_init");
        var name = $"BatchNorm forward [{n},{c},{h},{w}]";
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

    private static unsafe DnnlPlan BnBackward(int n, int c, int h, int w, float eps, bool training)
    {
        var data = DnnlRuntime.PlainDesc([n, c, h, w], Dnnl.F32);
        var vec = DnnlRuntime.PlainDesc([c], Dnnl.F32);
        var desc = new Dnnl.OpDesc();
        DnnlRuntime.Check(Dnnl.batch_normalization_backward_desc_init(&desc, Dnnl.Backward, &data, &data, eps, BnFlags(training)),
            "batch_normalization_backward_desc_init");
        var hint = DnnlPlan.GetOrCreate($"bn.fwd.{(training ? "train" : "eval")}.{n},{c},{h},{w},{eps}", () => BnForward(n, c, h, w, eps, training)).Pd;
        return DnnlPlan.Create($"BatchNorm backward [{n},{c},{h},{w}]", &desc, hint,
        [
            SlotSpec.Fixed(Dnnl.ArgSrc, data, false),
            SlotSpec.Fixed(Dnnl.ArgMean, vec, false),
            SlotSpec.Fixed(Dnnl.ArgVariance, vec, false),
            SlotSpec.Fixed(Dnnl.ArgDiffDst, data, false),
            SlotSpec.Fixed(Dnnl.ArgScale, vec, false),
            SlotSpec.Fixed(Dnnl.ArgShift, vec, false),
            SlotSpec.Fixed(Dnnl.ArgDiffSrc, data, true),
            SlotSpec.Fixed(Dnnl.ArgDiffScale, vec, true),
            SlotSpec.Fixed(Dnnl.ArgDiffShift, vec, true),
        ]);
    }
}
