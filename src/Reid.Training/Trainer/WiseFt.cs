using System.Numerics.Tensors;
using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Tensor = Reid.Engine.Tensors.Tensor;

namespace Reid.Training.Trainer;

/// <summary>
/// Weight-space ensembling of a fine-tuned model with the model it started from (WiSE-FT, Wortsman et al. 2022):
/// a fine-tune that stays in the starting point's basin can be blended linearly with it, which keeps much of the
/// gain on the fine-tuning data and much of what the start knew about other data. BatchNorm statistics of a blend
/// are not the blend's own, so they can be recomputed afterwards (as SWA's update_bn does).
/// </summary>
public static class WiseFt
{
    /// <summary>
    /// θ ← (1 − α)·θ₀ + α·θ for every parameter and buffer of <paramref name="trained"/> that <paramref name="start"/>
    /// has under the same name and shape; returns how many tensors were blended.
    /// </summary>
    public static int Interpolate(Module trained, Module start, double alpha)
    {
        if (alpha is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "WiSE-FT alpha lies in [0, 1]");
        var initial = start.StateDict();
        var blended = 0;
        foreach (var (name, tensor) in trained.StateDict())
        {
            if (!initial.TryGetValue(name, out var from)) continue;
            if (!from.ShapeArray().SequenceEqual(tensor.ShapeArray()))
                throw new ReidException($"WiSE-FT: '{name}' is {tensor.Describe()} in the trained model but {from.Describe()} in the initial one");
            var w = tensor.Data;
            // (1 − α)·θ₀ + α·θ, in place
            TensorPrimitives.Multiply(w, (float)alpha, w);
            TensorPrimitives.MultiplyAdd(from.Data, (float)(1 - alpha), w, w);
            blended++;
        }
        return blended;
    }

    /// <summary>
    /// Blends a BatchNorm that the starting model did not have (a BNNeck added for fine-tuning) towards the identity
    /// (γ = 1, β = 0, μ = 0, σ² = 1 − ε), which is what the starting model amounts to there: at α = 0 the whole
    /// model is then exactly the one fine-tuning began from, as WiSE-FT's end points must be.
    /// </summary>
    public static void InterpolateTowardsIdentity(BatchNorm neck, double alpha)
    {
        if (alpha is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "WiSE-FT alpha lies in [0, 1]");
        var a = (float)alpha;
        void Blend(Span<float> v, float identity)
        {
            for (var i = 0; i < v.Length; i++) v[i] = a * v[i] + (1 - a) * identity;
        }
        Blend(neck.Weight.Data, 1);
        Blend(neck.Bias.Data, 0);
        Blend(neck.RunningMean.Data, 0);
        Blend(neck.RunningVar.Data, 1 - neck.Eps);
    }

    /// <summary>
    /// Recomputes every BatchNorm's running mean and variance as the plain average over <paramref name="batches"/>,
    /// seen in training mode without gradients; weights are untouched. Returns the number of BatchNorm layers.
    /// </summary>
    public static int RefreshBatchNorms(Module model, IEnumerable<Reid.Engine.Tensors.Tensor> batches)
    {
        var layers = model.NamedModules().Select(m => m.Module).OfType<BatchNorm>().ToList();
        var momenta = layers.Select(l => l.Momentum).ToArray();
        var wasTraining = model.IsTraining;
        var seen = 0;
        try
        {
            model.Train();
            foreach (var batch in batches)
            {
                // the k-th batch enters with weight 1/(k+1): a running plain average from the first batch on
                foreach (var l in layers) l.Momentum = 1f / (seen + 1);
                using var input = batch;
                using var scope = new TensorScope();
                using var noGrad = Tape.NoGrad();
                model.Forward(batch);
                seen++;
            }
        }
        finally
        {
            for (var i = 0; i < layers.Count; i++) layers[i].Momentum = momenta[i];
            model.Train(wasTraining);
        }
        if (seen == 0) throw new ReidException("BatchNorm refresh: no images were given");
        return layers.Count;
    }
}
