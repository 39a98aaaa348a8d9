using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Tensor = Reid.Engine.Tensors.Tensor;

namespace Reid.Training.Import;

/// <summary>
/// Turns the identity BatchNorms an import leaves behind folded convolutions into real ones, so fine-tuning in
/// training mode starts from the pretrained function. An identity BN (γ = 1, β = b, μ = 0, σ² = 1 − ε) is exact
/// in evaluation mode, but in training mode BatchNorm divides by the batch's own statistics, which for a folded
/// conv's output are nothing like (0, 1): every layer's output would be rescaled and the pretrained features lost
/// at the first step (measured: validation Rank-1 fell from the start). Calibration observes each folded BN's
/// input z over real images, in evaluation mode, and sets μ = mean(z), σ² = var(z), γ = √(σ² + ε), β = b + μ.
/// Evaluation-mode output is unchanged (γ(z − μ)/√(σ² + ε) + β = z + b), and training-mode output on batches
/// like the calibration images is close to it.
/// </summary>
public static class FoldedBatchNormCalibrator
{
    /// <param name="model">the model the layers belong to; run forward in evaluation mode on each batch.</param>
    /// <param name="layers">the folded layers from <see cref="ImportReport.FoldedLayers"/>.</param>
    /// <param name="batches">input batches [N, C, H, W]; all of them are seen before any layer changes.</param>
    /// <returns>the number of values each layer's statistics were computed from, per channel.</returns>
    public static long Calibrate(Module model, IReadOnlyList<BatchNorm> layers, IEnumerable<Tensor> batches)
    {
        if (layers.Count == 0) return 0;
        var stats = layers.Select(l => new ChannelStats(l.Channels)).ToArray();
        for (var i = 0; i < layers.Count; i++)
        {
            var s = stats[i];
            layers[i].InputObserver = s.Add;
        }
        var wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            foreach (var batch in batches)
            {
                using var input = batch;
                using var scope = new TensorScope();
                using var noGrad = Tape.NoGrad();
                model.Forward(batch);
            }
        }
        finally
        {
            foreach (var l in layers) l.InputObserver = null;
            model.Train(wasTraining);
        }
        if (stats[0].Count < 2) throw new ReidException("BatchNorm calibration needs at least two values per channel (no images were given)");

        // The folded BN is exactly y = z + b only while γ = 1, μ = 0 and σ² + ε = 1; anything else was not folded.
        // Check every layer before changing any, so a refusal leaves the model as it was.
        foreach (var bn in layers)
            for (var c = 0; c < bn.Channels; c++)
                if (Math.Abs(bn.Weight.Data[c] - 1f) > 1e-6f || bn.RunningMean.Data[c] != 0f || Math.Abs(bn.RunningVar.Data[c] + bn.Eps - 1f) > 1e-6f)
                    throw new ReidException($"BatchNorm calibration: a layer with {bn.Channels} channels is not an identity left by a folded import");

        for (var i = 0; i < layers.Count; i++)
        {
            var bn = layers[i];
            var (mean, variance) = stats[i].Result();
            var gamma = bn.Weight.Data;
            var beta = bn.Bias.Data;
            var runningMean = bn.RunningMean.Data;
            var runningVar = bn.RunningVar.Data;
            for (var c = 0; c < bn.Channels; c++)
            {
                var v = (float)Math.Max(variance[c], 0);
                gamma[c] = MathF.Sqrt(v + bn.Eps);
                beta[c] += (float)mean[c];
                runningMean[c] = (float)mean[c];
                runningVar[c] = v;
            }
        }
        return stats[0].Count;
    }

    /// <summary>Per-channel running sums in double (millions of values per channel).</summary>
    private sealed class ChannelStats(int channels)
    {
        private readonly double[] _sum = new double[channels], _squares = new double[channels];
        public long Count { get; private set; }

        public void Add(Tensor input)
        {
            // Data converts a blocked native layout to plain row-major in place; BatchNorm accepts either.
            var d = input.Data;
            int n = input.Dim(0), c = input.Dim(1);
            var inner = input.Count / (n * c);
            for (var b = 0; b < n; b++)
                for (var ch = 0; ch < c; ch++)
                {
                    var span = d.Slice((b * c + ch) * inner, inner);
                    double s = 0, q = 0;
                    foreach (var x in span) { s += x; q += (double)x * x; }
                    _sum[ch] += s;
                    _squares[ch] += q;
                }
            Count += (long)n * inner;
        }

        public (double[] Mean, double[] Variance) Result()
        {
            var mean = _sum.Select(s => s / Count).ToArray();
            var variance = _squares.Select((q, ch) => q / Count - mean[ch] * mean[ch]).ToArray();
            return (mean, variance);
        }
    }
}
