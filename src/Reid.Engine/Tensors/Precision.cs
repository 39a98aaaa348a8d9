namespace Reid.Engine.Tensors;

/// <summary>Arithmetic used inside convolutions and matrix products. Master weights stay f32.</summary>
public enum ComputePrecision
{
    F32,
    /// <summary>
    /// bf16 inputs and weights, f32 accumulation; convolution outputs and the activation gradients flowing back
    /// through them are bf16 (master weights and weight gradients stay f32).
    /// </summary>
    BF16,
}

/// <summary>
/// The precision convolutions and matrix products use on this thread. Backward uses the precision that was
/// active when the forward op ran. Normalisation, activations and pooling run in the element type of their input (bf16 after a bf16 convolution).
/// </summary>
public static class Precision
{
    [ThreadStatic] private static ComputePrecision? _current;

    public static ComputePrecision Current => _current ?? Default;

    /// <summary>Process-wide default (f32).</summary>
    public static ComputePrecision Default
    {
        get => _default;
        set { EnsureRuns(value); _default = value; }
    }
    private static ComputePrecision _default = ComputePrecision.F32;

    /// <summary>
    /// Switches precision on this thread until disposed: <c>using (Precision.Use(ComputePrecision.BF16)) { ... }</c>.
    /// bf16 on a CPU where oneDNN has no bf16 kernels throws a ReidException naming the ISA here, before any op
    /// would fail with oneDNN's raw "unimplemented".
    /// </summary>
    public static IDisposable Use(ComputePrecision precision)
    {
        EnsureRuns(precision);
        var previous = _current;
        _current = precision;
        return new Restore(previous);
    }

    private static void EnsureRuns(ComputePrecision precision)
    {
        if (precision == ComputePrecision.BF16 && !CpuCapabilities.Current.Bf16Available)
            throw CpuCapabilities.Current.Bf16Unavailable("bf16 compute");
    }

    private sealed class Restore(ComputePrecision? previous) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _current = previous;
        }
    }
}
