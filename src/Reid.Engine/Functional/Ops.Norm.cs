using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Native;
using Reid.Engine.Tensors;

namespace Reid.Engine.Functional;

public static partial class Ops
{
    internal static bool Needs(Tensor t) => t.RequiresGrad || t.GradFn is not null;

    /// <summary>
    /// Batch normalisation of x [N,C,H,W] (or [N,C]) over N·H·W per channel, on oneDNN. Training uses batch
    /// statistics and updates the running ones in place (momentum as in PyTorch, unbiased variance);
    /// evaluation uses the running statistics.
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        bool training, float momentum = 0.1f, float eps = 1e-5f)
    {
        if (x.Rank != 4 && x.Rank != 2) throw new ReidException($"BatchNorm expects [N,C,H,W] or [N,C] but got {x.Describe()}");
        int n = x.Dim(0), c = x.Dim(1), h = x.Rank == 4 ? x.Dim(2) : 1, w = x.Rank == 4 ? x.Dim(3) : 1;
        foreach (var t in new[] { gamma, beta, runningMean, runningVar })
            if (t.Rank != 1 || t.Dim(0) != c)
                throw new ReidException($"BatchNorm: {t.Describe()} does not match {c} channels of {x.Describe()}");
        if (training && n * h * w < 2)
            throw new ReidException($"BatchNorm in training mode needs more than one value per channel, got {x.Describe()}");

        var shape4 = new[] { n, c, h, w };
        // A rank-2 input is viewed as [N,C,1,1]; rank-4 inputs are normalised in whatever layout they are in.
        var xMd = x.Rank == 4 ? x.Md : DnnlRuntime.PlainDesc(shape4, Dnnl.F32);
        var layout = x.Rank == 4 ? x.Layout : null;
        var key = $"{n},{c},{h},{w},{eps},{x.LayoutKey}";
        var y = Tensor.Native(x.ShapeArray(), layout);
        Tensor mean, variance;
        if (training)
        {
            mean = Tensor.Empty(c);
            variance = Tensor.Empty(c);
            var plan = DnnlPrimitives.BatchNormForward("bn.fwd.train." + key, xMd, c, eps, true);
            plan.Execute([x.Buffer, gamma.PlainBuffer, beta.PlainBuffer, y.Buffer, mean.PlainBuffer, variance.PlainBuffer]);
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
            var plan = DnnlPrimitives.BatchNormForward("bn.fwd.eval." + key, xMd, c, eps, false);
            plan.Execute([x.Buffer, mean.PlainBuffer, variance.PlainBuffer, gamma.PlainBuffer, beta.PlainBuffer, y.Buffer]);
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
            var md = x.Rank == 4 ? x.Md : DnnlRuntime.PlainDesc(shape4, Dnnl.F32);
            var gyMd = gy.Rank == 4 ? gy.Md : DnnlRuntime.PlainDesc(shape4, Dnnl.F32);
            var gx = Tensor.Native(x.ShapeArray(), x.Rank == 4 ? x.Layout : null);
            var gg = Tensor.Empty(c);
            var gb = Tensor.Empty(c);
            var plan = DnnlPrimitives.BatchNormBackward($"bn.bwd.{training}.{n},{c},{h},{w},{eps},{x.LayoutKey},{gy.LayoutKey}",
                md, gyMd, c, eps, training);
            plan.Execute([x.Buffer, savedMean.PlainBuffer, savedVar.PlainBuffer, gy.Buffer, gamma.PlainBuffer, beta.PlainBuffer, gx.Buffer, gg.PlainBuffer, gb.PlainBuffer]);
            return [Needs(x) ? gx : Drop(gx), Needs(gamma) ? gg : Drop(gg), Needs(beta) ? gb : Drop(gb)];
        }, savedMean, savedVar);
    }

    private static Tensor? Drop(Tensor t)
    {
        t.Dispose();
        return null;
    }
}
