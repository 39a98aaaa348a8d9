namespace Reid.Engine.Tensors;

/// <summary>
/// Disposes every tensor created on this thread while the scope is open (evaluation loops, a training step),
/// except those passed to <see cref="Keep"/>. Parameters and gradients are never captured. Scopes nest.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;
    [ThreadStatic] private static int _suspended;
    private readonly TensorScope? _outer;
    private readonly List<Tensor> _owned = new();
    private readonly HashSet<Tensor> _kept = new(ReferenceEqualityComparer.Instance);
    private bool _disposed;

    public TensorScope()
    {
        _outer = _current;
        _current = this;
    }

    /// <summary>Moves a tensor out of this scope (to the enclosing scope if any).</summary>
    public Tensor Keep(Tensor t)
    {
        _kept.Add(t);
        _outer?._owned.Add(t);
        return t;
    }

    internal static void Register(Tensor t)
    {
        if (_suspended == 0) _current?._owned.Add(t);
    }

    /// <summary>Tensors created inside the returned scope are not captured (parameters, gradients, caches).</summary>
    internal static IDisposable Suspend()
    {
        _suspended++;
        return new Resume();
    }

    private sealed class Resume : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _suspended--;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_current == this) _current = _outer;
        foreach (var t in _owned)
            if (!_kept.Contains(t)) t.Dispose();
        _owned.Clear();
    }
}
