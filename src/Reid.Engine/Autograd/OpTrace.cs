using Reid.Engine.Tensors;

namespace Reid.Engine.Autograd;

/// <summary>One operation seen while tracing: ONNX-like op name, inputs (parameters and buffers are the
/// module's own tensor objects), the output, and attributes (see README.md for each op's keys).</summary>
public sealed record TracedOp(string Op, IReadOnlyList<Tensor> Inputs, Tensor Output, IReadOnlyDictionary<string, object> Attributes);

/// <summary>
/// Records every engine operation run on this thread while open, in execution order, so an exporter can
/// turn a forward pass into a graph (map parameter objects to names with Module.NamedParameters()).
/// Tracing does not change results; it works with or without gradients.
/// </summary>
public sealed class OpTrace : IDisposable
{
    [ThreadStatic] private static OpTrace? _current;
    private readonly OpTrace? _outer;
    private readonly List<TracedOp> _ops = new();

    public OpTrace()
    {
        _outer = _current;
        _current = this;
    }

    public IReadOnlyList<TracedOp> Ops => _ops;

    public static bool IsActive => _current is not null;

    /// <summary>Adds an op to the active trace (custom ops may call this too).</summary>
    public static void Add(string op, Tensor output, Tensor[] inputs, params (string Key, object Value)[] attributes)
    {
        if (_current is null) return;
        var dict = new Dictionary<string, object>(attributes.Length);
        foreach (var (k, v) in attributes) dict[k] = v;
        _current._ops.Add(new TracedOp(op, inputs, output, dict));
    }

    public void Dispose()
    {
        if (_current == this) _current = _outer;
    }
}
