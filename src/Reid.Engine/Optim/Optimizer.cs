using Reid.Core;
using Reid.Engine.Tensors;

namespace Reid.Engine.Optim;

/// <summary>A trainable tensor as an optimiser sees it: a name, a shape, its values and its gradient.</summary>
public interface ITrainable
{
    string Name { get; }
    IReadOnlyList<int> Shape { get; }
    /// <summary>False for biases and normalisation scales/shifts, which get no weight decay.</summary>
    bool WeightDecay { get; }
    Span<float> Value { get; }
    /// <summary>Empty when the parameter received no gradient (it is then left untouched, as in PyTorch).</summary>
    Span<float> Gradient { get; }
}

/// <summary>
/// Parameters that share a base learning rate and weight decay (e.g. backbone vs head, decayed weights vs
/// biases and BN affine parameters).
/// </summary>
public sealed record ParameterGroup(string Name, IReadOnlyList<ITrainable> Parameters, double LearningRate, double WeightDecay = 0);

/// <summary>
/// Base of the optimisers: walks the groups, applies the schedule's factor to each group's base learning rate,
/// and keeps per-parameter state (momentum, moments) that checkpoints save as named tensors.
/// </summary>
public abstract class Optimizer
{
    private readonly Dictionary<ITrainable, float[][]> _state = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(IEnumerable<ParameterGroup> groups, LearningRateSchedule? schedule)
    {
        Groups = groups.ToList();
        Schedule = schedule ?? new ConstantSchedule();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in Groups.SelectMany(g => g.Parameters))
            if (!names.Add(p.Name)) throw new ArgumentException($"parameter '{p.Name}' is in more than one group");
    }

    public IReadOnlyList<ParameterGroup> Groups { get; }
    public LearningRateSchedule Schedule { get; }

    /// <summary>Optimiser steps taken so far (the schedule position).</summary>
    public long StepCount { get; private set; }

    /// <summary>The learning rate the next <see cref="Step"/> uses for <paramref name="group"/>.</summary>
    public double LearningRate(ParameterGroup group) => group.LearningRate * Schedule.Factor(StepCount);

    /// <summary>Names of the per-parameter state buffers, e.g. "momentum" or "exp_avg", "exp_avg_sq".</summary>
    protected abstract string[] StateNames { get; }

    /// <summary>Updates every parameter from its gradient, then advances the schedule.</summary>
    public void Step()
    {
        foreach (var group in Groups)
        {
            var lr = (float)LearningRate(group);
            foreach (var p in group.Parameters)
                if (!p.Gradient.IsEmpty) Update(p, StateOf(p), lr, (float)group.WeightDecay, StepCount + 1);
        }
        StepCount++;
    }

    /// <summary>Sets every gradient to zero (before the next accumulation of micro-batches).</summary>
    public void ZeroGradients()
    {
        foreach (var p in Groups.SelectMany(g => g.Parameters)) p.Gradient.Clear();
    }

    protected abstract void Update(ITrainable p, float[][] state, float lr, float weightDecay, long step);

    private float[][] StateOf(ITrainable p)
    {
        if (!_state.TryGetValue(p, out var s))
            _state[p] = s = StateNames.Select(_ => new float[p.Value.Length]).ToArray();
        return s;
    }

    /// <summary>The optimiser's state as named tensors ("optim/&lt;parameter&gt;/&lt;buffer&gt;") for a checkpoint.</summary>
    public IEnumerable<NamedTensor> StateTensors()
    {
        foreach (var p in Groups.SelectMany(g => g.Parameters))
        {
            var s = StateOf(p);
            for (int i = 0; i < s.Length; i++)
                yield return new NamedTensor($"optim/{p.Name}/{StateNames[i]}", p.Shape.ToArray(), s[i]);
        }
    }

    /// <summary>Restores state saved by <see cref="StateTensors"/>; every buffer must be present with the right shape.</summary>
    public void LoadState(IReadOnlyDictionary<string, NamedTensor> tensors, long stepCount, string source)
    {
        var copies = new List<(NamedTensor From, float[] To)>();
        foreach (var p in Groups.SelectMany(g => g.Parameters))
        {
            var s = StateOf(p);
            for (int i = 0; i < s.Length; i++)
            {
                var name = $"optim/{p.Name}/{StateNames[i]}";
                if (!tensors.TryGetValue(name, out var t))
                    throw new ReidException($"{source}: optimiser state '{name}' is missing (saved by a different optimiser or model?)");
                if (t.Data.Length != s[i].Length || !t.Shape.SequenceEqual(p.Shape))
                    throw new ReidException($"{source}: optimiser state '{name}' has shape {t.ShapeText}, the parameter has [{string.Join("x", p.Shape)}]");
                copies.Add((t, s[i]));
            }
        }
        // Copy only once everything fits, so a failed resume leaves the optimiser as it was.
        foreach (var (from, to) in copies) from.Data.CopyTo(to, 0);
        StepCount = stepCount;
    }

    /// <summary>A short description stored in checkpoints so a resume with another optimiser is caught.</summary>
    public abstract string Kind { get; }
}

/// <summary>SGD with momentum (heavy-ball or Nesterov) and coupled L2 weight decay, as torch.optim.SGD.</summary>
public sealed class Sgd(IEnumerable<ParameterGroup> groups, double momentum = 0.9, bool nesterov = false, LearningRateSchedule? schedule = null)
    : Optimizer(groups, schedule)
{
    public double Momentum { get; } = momentum;
    public bool Nesterov { get; } = nesterov;
    public override string Kind => Nesterov ? "sgd-nesterov" : "sgd";
    protected override string[] StateNames => Momentum == 0 ? [] : ["momentum"];

    protected override void Update(ITrainable p, float[][] state, float lr, float weightDecay, long step) =>
        UpdateKernels.Sgd(p.Value, p.Gradient, Momentum == 0 ? default : state[0], lr, (float)Momentum, weightDecay, Nesterov);
}

/// <summary>
/// Adam (weight decay added to the gradient, as torch.optim.Adam) or, with <paramref name="decoupled"/>, AdamW
/// (weight decay applied to the weights directly, Loshchilov &amp; Hutter 2019).
/// </summary>
public class Adam(IEnumerable<ParameterGroup> groups, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
    LearningRateSchedule? schedule = null, bool decoupled = false) : Optimizer(groups, schedule)
{
    public double Beta1 { get; } = beta1;
    public double Beta2 { get; } = beta2;
    public double Epsilon { get; } = epsilon;
    public bool DecoupledWeightDecay { get; } = decoupled;
    public override string Kind => DecoupledWeightDecay ? "adamw" : "adam";
    protected override string[] StateNames => ["exp_avg", "exp_avg_sq"];

    protected override void Update(ITrainable p, float[][] state, float lr, float weightDecay, long step) =>
        UpdateKernels.Adam(p.Value, p.Gradient, state[0], state[1], lr, (float)Beta1, (float)Beta2, (float)Epsilon,
            DecoupledWeightDecay ? 0 : weightDecay, DecoupledWeightDecay ? weightDecay : 0, step);
}

/// <summary>AdamW: Adam with decoupled weight decay.</summary>
public sealed class AdamW(IEnumerable<ParameterGroup> groups, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
    LearningRateSchedule? schedule = null) : Adam(groups, beta1, beta2, epsilon, schedule, decoupled: true);
