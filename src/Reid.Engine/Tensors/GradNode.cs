using Reid.Engine.Tensors;

namespace Reid.Engine.Tensors;

/// <summary>
/// Computes the gradients of an operation's inputs from the gradient of its output. Return one entry per
/// input (null where no gradient is needed). Return fresh tensors, or <paramref name="gradOutput"/> itself
/// for identity-like ops; the engine takes ownership of what is returned.
/// </summary>
public delegate Tensor?[] BackwardFn(Tensor gradOutput);

/// <summary>One recorded operation: its inputs, the tensors it saved for backward, and its backward function.</summary>
public sealed class GradNode
{
    internal GradNode(string op, Tensor[] inputs, Tensor[] saved, BackwardFn backward, bool readsInputs = true)
    {
        ReadsInputs = readsInputs;
        Op = op;
        Inputs = inputs;
        Saved = saved;
        InputVersions = Array.ConvertAll(inputs, t => t.Version);
        BackwardFunction = backward;
    }

    /// <summary>Operation name (as in error messages and traces).</summary>
    public string Op { get; }

    internal Tensor[] Inputs { get; private set; }
    internal int[] InputVersions { get; private set; }
    internal Tensor[] Saved { get; private set; }
    internal BackwardFn? BackwardFunction { get; private set; }

    /// <summary>False when backward never reads the inputs' values: overwriting them later is harmless.</summary>
    internal bool ReadsInputs { get; }

    internal void Clear()
    {
        Inputs = [];
        InputVersions = [];
        Saved = [];
        BackwardFunction = null;
    }
}
