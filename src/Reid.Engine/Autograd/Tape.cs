using Reid.Core;
using Reid.Engine.Tensors;

namespace Reid.Engine.Autograd;

/// <summary>
/// The reverse-mode engine. Operations call <see cref="Record"/> to attach a backward function to their
/// output; <see cref="Backward"/> runs those functions in reverse topological order, accumulates gradients
/// into leaves, and returns intermediate buffers to the pool as soon as nothing else needs them.
/// </summary>
public static class Tape
{
    [ThreadStatic] private static int _noGradDepth;

    /// <summary>Whether operations on this thread currently record gradients.</summary>
    public static bool IsGradEnabled => _noGradDepth == 0;

    /// <summary>Turns recording off on this thread until disposed (evaluation, optimiser updates).</summary>
    public static IDisposable NoGrad()
    {
        _noGradDepth++;
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _noGradDepth--;
        }
    }

    /// <summary>True if an op over these inputs must be recorded.</summary>
    public static bool NeedsGrad(params ReadOnlySpan<Tensor?> inputs)
    {
        if (_noGradDepth > 0) return false;
        foreach (var t in inputs)
            if (t is not null && (t.RequiresGrad || t.GradFn is not null)) return true;
        return false;
    }

    /// <summary>
    /// Makes <paramref name="output"/> the result of a differentiable op (the way custom ops such as losses
    /// are added). Does nothing when no input needs a gradient or recording is off. <paramref name="saved"/>
    /// lists buffers the op allocated only for its backward function (workspaces, statistics); the engine frees them
    /// after the node has run.
    /// </summary>
    public static Tensor Record(string op, Tensor output, Tensor[] inputs, BackwardFn backward, params Tensor[] saved) =>
        Record(op, output, inputs, backward, readsInputs: true, saved);

    /// <summary>
    /// <see cref="Record(string, Tensor, Tensor[], BackwardFn, Tensor[])"/>; <paramref name="readsInputs"/> = false
    /// exempts the inputs from Backward's overwritten-input check (backward uses only the output gradient).
    /// </summary>
    internal static Tensor Record(string op, Tensor output, Tensor[] inputs, BackwardFn backward, bool readsInputs, Tensor[] saved)
    {
        if (!NeedsGrad(inputs)) return output;
        if (output.GradFn is not null) throw new InvalidOperationException($"{op}: output already has a gradient function");
        output.GradFn = new GradNode(op, inputs, saved, backward, readsInputs);
        output.IsIntermediate = true;
        foreach (var s in saved) s.IsIntermediate = true;
        return output;
    }

    /// <summary>Back-propagates from <paramref name="root"/>; a scalar root gets gradient 1.</summary>
    public static void Backward(this Tensor root, Tensor? gradient = null)
    {
        if (root.GradFn is null && !root.RequiresGrad)
            throw new ReidException($"{root.Describe()} does not require a gradient (was it computed under NoGrad, or from inputs that need none?)");
        if (gradient is null && root.Count != 1)
            throw new ReidException($"Backward() without a gradient needs a single value, but {root.Describe()} has {root.Count}");
        if (gradient is not null && !gradient.SameShape(root))
            throw new ReidException($"gradient {gradient.Describe()} does not match {root.Describe()}");

        using var suspend = TensorScope.Suspend();
        var order = TopologicalOrder(root);
        // How many nodes still need each tensor (as input or saved); when it reaches zero an intermediate is freed.
        var pending = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        foreach (var t in order)
        {
            var node = t.GradFn!;
            foreach (var x in node.Inputs) pending[x] = pending.GetValueOrDefault(x) + 1;
            foreach (var x in node.Saved) pending[x] = pending.GetValueOrDefault(x) + 1;
        }

        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        var g0 = gradient?.Clone() ?? Tensor.Ones(root.ShapeArray());
        if (root.GradFn is null)
        {
            Accumulate(root, g0, owned: true, grads);
            return;
        }
        grads[root] = g0;

        // order lists outputs so that every tensor comes after all tensors computed from it.
        foreach (var output in order)
        {
            var node = output.GradFn!;
            if (!grads.Remove(output, out var gOut)) gOut = null;
            if (gOut is not null && node.BackwardFunction is { } fn)
            {
                for (var i = 0; i < node.Inputs.Length && node.ReadsInputs; i++)
                    if (node.Inputs[i].Version != node.InputVersions[i] && !node.Inputs[i].IsReleased)
                        throw new ReidException($"{node.Op}: its input {node.Inputs[i].Describe()} was overwritten by an in-place op " +
                                                $"after {node.Op} used it; use the out-of-place version of that op");
                var inGrads = fn(gOut);
                if (inGrads.Length != node.Inputs.Length)
                    throw new InvalidOperationException($"{node.Op}: backward returned {inGrads.Length} gradients for {node.Inputs.Length} inputs");
                // A tensor returned for several inputs (Add returns the output gradient twice) is handed over to
                // the last input that takes it, the others get copies: accumulating may free what it is handed.
                var owner = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
                for (var i = 0; i < inGrads.Length; i++)
                    if (inGrads[i] is { } g && (node.Inputs[i].RequiresGrad || node.Inputs[i].GradFn is not null)) owner[g] = i;
                for (var i = 0; i < inGrads.Length; i++)
                {
                    var g = inGrads[i];
                    var x = node.Inputs[i];
                    if (g is null || !(x.RequiresGrad || x.GradFn is not null)) continue;
                    if (!g.SameShape(x))
                        throw new InvalidOperationException($"{node.Op}: gradient {g.Describe()} does not match input {x.Describe()}");
                    Accumulate(x, g, owned: owner[g] == i, grads);
                }
                // What no input took (gradients for inputs that need none, an unused output gradient) is freed.
                var returned = new HashSet<Tensor>(ReferenceEqualityComparer.Instance) { gOut };
                foreach (var g in inGrads)
                    if (g is not null) returned.Add(g);
                foreach (var g in returned)
                    if (!owner.ContainsKey(g)) g.Dispose();
            }
            else
            {
                gOut?.Dispose();
            }

            foreach (var x in node.Inputs) Done(x, pending, root);
            foreach (var x in node.Saved) Done(x, pending, root);
            node.Clear();
            output.GradFn = null;
            if (!ReferenceEquals(output, root) && !output.IsRetained && pending.GetValueOrDefault(output) == 0) output.ReleaseStorage();
        }
        foreach (var g in grads.Values) g.Dispose();
    }

    private static void Done(Tensor x, Dictionary<Tensor, int> pending, Tensor root)
    {
        var left = pending[x] - 1;
        pending[x] = left;
        // Saved tensors and intermediate outputs whose consumers have all run; leaves belong to the caller.
        if (left == 0 && x.GradFn is null && !x.RequiresGrad && !x.IsRetained && !ReferenceEquals(x, root) && x.IsIntermediate)
            x.ReleaseStorage();
    }

    private static void Accumulate(Tensor x, Tensor g, bool owned, Dictionary<Tensor, Tensor> grads)
    {
        if (x.GradFn is null)
        {
            // Leaf: gradients accumulate across Backward calls (gradient accumulation) until ZeroGrad.
            if (x.Grad is null) x.Grad = owned ? g : g.Clone();
            else
            {
                x.Grad.AddInPlace(g);
                if (owned) g.Dispose();
            }
            return;
        }
        if (x.IsRetained)
        {
            if (x.Grad is null) x.Grad = g.Clone();
            else x.Grad.AddInPlace(g);
        }
        if (grads.TryGetValue(x, out var acc))
        {
            acc.AddInPlace(g);
            if (owned) g.Dispose();
        }
        else grads[x] = owned ? g : g.Clone();
    }

    /// <summary>Outputs of recorded nodes, each before the nodes that produced its inputs.</summary>
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var post = new List<Tensor>();
        var stack = new Stack<(Tensor T, int Next)>();
        if (root.GradFn is null) return post;
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.GradFn!.Inputs;
            if (next < inputs.Length)
            {
                stack.Push((t, next + 1));
                var x = inputs[next];
                if (x.GradFn is not null && visited.Add(x)) stack.Push((x, 0));
            }
            else post.Add(t);
        }
        post.Reverse();
        return post;
    }
}
