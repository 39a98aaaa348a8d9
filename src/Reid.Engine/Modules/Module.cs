using Reid.Core;
using Reid.Engine.Tensors;

namespace Reid.Engine.Modules;

/// <summary>
/// A network component: named child modules, parameters and buffers (e.g. BatchNorm running statistics),
/// all enumerable by dotted names like <c>layer1.0.conv1.weight</c> — the names checkpoints, ONNX export and
/// import use. Register children and tensors in the constructor, in forward order.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Module Module)> _children = new();
    private readonly List<(string Name, Parameter Parameter)> _parameters = new();
    private readonly List<(string Name, Tensor Buffer)> _buffers = new();

    /// <summary>Training mode (batch statistics, dropout active) versus evaluation mode.</summary>
    public bool IsTraining { get; private set; } = true;

    public abstract Tensor Forward(Tensor input);

    /// <summary>Registers a child module under a local name (no dots).</summary>
    protected T AddModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        _children.Add((name, module));
        module.SetMode(IsTraining);
        return module;
    }

    /// <summary>Registers a trainable parameter initialised from a copy of <paramref name="init"/>.</summary>
    protected Parameter AddParameter(string name, Tensor init, bool weightDecay = true)
    {
        CheckName(name);
        var p = Parameter.From(init, name, weightDecay);
        _parameters.Add((name, p));
        return p;
    }

    /// <summary>Registers a non-trainable state tensor (saved and exported, not optimised).</summary>
    protected Tensor AddBuffer(string name, Tensor value)
    {
        CheckName(name);
        using var _ = TensorScope.Suspend();
        var b = value.Clone();
        b.Name = name;
        _buffers.Add((name, b));
        return b;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"module member name '{name}' must be non-empty and contain no '.'");
        if (_children.Any(c => c.Name == name) || _parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name))
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'");
    }

    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children;

    /// <summary>This module ("") and all descendants with dotted paths, depth first in registration order.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, child) in _children)
            foreach (var m in child.NamedModules(Join(prefix, name)))
                yield return m;
    }

    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var (name, p) in _parameters) yield return (Join(prefix, name), p);
        foreach (var (name, child) in _children)
            foreach (var x in child.NamedParameters(Join(prefix, name)))
                yield return x;
    }

    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(p => p.Parameter);

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "")
    {
        foreach (var (name, b) in _buffers) yield return (Join(prefix, name), b);
        foreach (var (name, child) in _children)
            foreach (var x in child.NamedBuffers(Join(prefix, name)))
                yield return x;
    }

    /// <summary>Parameters then buffers, by dotted name: the complete state of the model.</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var (n, p) in NamedParameters()) d[n] = p;
        foreach (var (n, b) in NamedBuffers()) d[n] = b;
        return d;
    }

    /// <summary>
    /// Copies values into parameters and buffers by dotted name. Every entry must match a tensor of the same
    /// shape; with <paramref name="strict"/>, every model tensor must be given.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, (int[] Shape, float[] Values)> state, bool strict = true, string source = "state")
    {
        var own = StateDict();
        foreach (var (name, (shape, values)) in state)
        {
            if (!own.TryGetValue(name, out var t))
                throw new ReidException($"{source}: tensor '{name}' does not exist in {GetType().Name}");
            if (!t.Shape.SequenceEqual(shape))
                throw new ReidException($"{source}: tensor '{name}' has shape [{string.Join(", ", shape)}] but the model expects [{string.Join(", ", t.ShapeArray())}]");
            if (values.Length != t.Count)
                throw new ReidException($"{source}: tensor '{name}' has {values.Length} values for shape [{string.Join(", ", shape)}]");
            values.CopyTo(t.Data);
        }
        if (strict)
        {
            var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
            if (missing.Count > 0)
                throw new ReidException($"{source}: missing {missing.Count} tensor(s) of {GetType().Name}, e.g. '{missing[0]}'");
        }
    }

    public long ParameterCount() => Parameters().Sum(p => (long)p.Count);

    public Module Train(bool training = true)
    {
        SetMode(training);
        return this;
    }

    public Module Eval() => Train(false);

    private void SetMode(bool training)
    {
        IsTraining = training;
        foreach (var (_, c) in _children) c.SetMode(training);
    }

    /// <summary>Drops every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Checks an input's rank/channels and names this module in the error.</summary>
    protected void Expect(Tensor x, int rank, int axis = -1, int size = -1)
    {
        if (x.Rank != rank)
            throw new ReidException($"{GetType().Name} expects a rank-{rank} input but got {x.Describe()}");
        if (axis >= 0 && x.Dim(axis) != size)
            throw new ReidException($"{GetType().Name} expects size {size} on axis {axis} but got {x.Describe()}");
    }
}

/// <summary>Runs children in order; children are named "0", "1", … (so paths read <c>layer1.0.conv1</c>).</summary>
public class Sequential : Module
{
    private readonly List<Module> _items = new();

    public Sequential(params Module[] modules)
    {
        foreach (var m in modules) Add(m);
    }

    public Sequential Add(Module module)
    {
        AddModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        _items.Add(module);
        return this;
    }

    public int Count => _items.Count;
    public Module this[int index] => _items[index];

    public override Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var m in _items) x = m.Forward(x);
        return x;
    }
}
