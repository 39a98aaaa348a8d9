namespace Reid.Engine.Optim;

/// <summary>Gradient clipping and accumulation over a set of parameters.</summary>
public static class Gradients
{
    /// <summary>The global L2 norm of all gradients, as one concatenated vector.</summary>
    public static double GlobalNorm(IEnumerable<ITrainable> parameters) =>
        Math.Sqrt(parameters.Sum(p => UpdateKernels.SumOfSquares(p.Gradient)));

    /// <summary>
    /// Scales all gradients so their global norm is at most <paramref name="maxNorm"/> (torch's
    /// clip_grad_norm_); returns the norm before clipping, worth logging: a spike means a bad batch.
    /// </summary>
    public static double ClipGlobalNorm(IReadOnlyCollection<ITrainable> parameters, double maxNorm)
    {
        var norm = GlobalNorm(parameters);
        if (norm > maxNorm)
        {
            var factor = (float)(maxNorm / (norm + 1e-6));
            foreach (var p in parameters) UpdateKernels.Scale(p.Gradient, factor);
        }
        return norm;
    }

    public static void Scale(IEnumerable<ITrainable> parameters, float factor)
    {
        foreach (var p in parameters) UpdateKernels.Scale(p.Gradient, factor);
    }
}

/// <summary>
/// Gradient accumulation: a large effective batch from several micro-batches. Call <see cref="MicroBatchDone"/>
/// after each backward pass (gradients add up in the parameters); every <see cref="Steps"/> micro-batches it
/// averages the summed gradients, clips them if asked, steps the optimiser and zeroes the gradients.
/// </summary>
public sealed class GradientAccumulator(Optimizer optimizer, int steps, double? clipNorm = null)
{
    private int _pending;

    public int Steps { get; } = steps >= 1 ? steps : throw new ArgumentOutOfRangeException(nameof(steps), "must be at least 1");

    /// <summary>The gradient norm before clipping at the last optimiser step (NaN before the first).</summary>
    public double LastNorm { get; private set; } = double.NaN;

    /// <summary>Returns true when this micro-batch completed an optimiser step.</summary>
    public bool MicroBatchDone()
    {
        if (++_pending < Steps) return false;
        var all = optimizer.Groups.SelectMany(g => g.Parameters).ToList();
        if (Steps > 1) Gradients.Scale(all, 1f / Steps);
        LastNorm = clipNorm is { } max ? Gradients.ClipGlobalNorm(all, max) : Gradients.GlobalNorm(all);
        optimizer.Step();
        optimizer.ZeroGradients();
        _pending = 0;
        return true;
    }
}
