namespace Reid.Engine.Optim;

/// <summary>
/// A learning-rate schedule as a factor of each parameter group's base learning rate, a pure function of the
/// optimiser step (0-based), so resuming only needs the step count (stored in checkpoints).
/// </summary>
public abstract record LearningRateSchedule
{
    /// <summary>Factor applied to the base learning rate for optimiser step <paramref name="step"/> (0-based).</summary>
    public abstract double Factor(long step);

    /// <summary>Linear warmup from <paramref name="startFactor"/> to 1 over <paramref name="warmupSteps"/> steps.</summary>
    protected static double Warmup(long step, int warmupSteps, double startFactor) =>
        startFactor + (1 - startFactor) * step / warmupSteps;
}

/// <summary>A constant learning rate.</summary>
public sealed record ConstantSchedule : LearningRateSchedule
{
    public override double Factor(long step) => 1;
}

/// <summary>
/// Linear warmup then cosine decay to <see cref="MinFactor"/> at <see cref="TotalSteps"/> (held there afterwards):
/// the usual recipe for Adam-trained ReID models.
/// </summary>
public sealed record WarmupCosineSchedule(int WarmupSteps, long TotalSteps, double WarmupStartFactor = 0.01, double MinFactor = 0)
    : LearningRateSchedule
{
    public override double Factor(long step)
    {
        if (TotalSteps <= WarmupSteps) throw new ArgumentException($"cosine schedule: total steps ({TotalSteps}) must exceed warmup steps ({WarmupSteps})");
        if (step < WarmupSteps) return Warmup(step, WarmupSteps, WarmupStartFactor);
        var progress = Math.Min(1.0, (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps));
        return MinFactor + (1 - MinFactor) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}

/// <summary>
/// Linear warmup then a step decay: the factor is multiplied by <see cref="Gamma"/> at each milestone step
/// (the BoT / "bag of tricks" ReID recipe: warmup 10 epochs, ×0.1 at epochs 40 and 70).
/// </summary>
public sealed record WarmupMultiStepSchedule(int WarmupSteps, IReadOnlyList<long> Milestones, double Gamma = 0.1, double WarmupStartFactor = 0.01)
    : LearningRateSchedule
{
    public override double Factor(long step)
    {
        var passed = Milestones.Count(m => step >= m);
        var decay = Math.Pow(Gamma, passed);
        return step < WarmupSteps ? Warmup(step, WarmupSteps, WarmupStartFactor) * decay : decay;
    }
}
