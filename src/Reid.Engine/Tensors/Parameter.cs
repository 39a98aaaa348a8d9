using Reid.Engine.Native;

namespace Reid.Engine.Tensors;

/// <summary>
/// A trainable tensor owned by a module. <see cref="Tensor.Name"/> is its local name ("weight");
/// <c>Module.NamedParameters()</c> gives the dotted path. Parameters never belong to a <see cref="TensorScope"/>.
/// </summary>
public sealed class Parameter : Tensor
{
    internal Parameter(Storage storage, int[] shape, string name, bool weightDecay) : base(storage, shape)
    {
        Name = name;
        WeightDecay = weightDecay;
        RequiresGrad = true;
    }

    /// <summary>Copies <paramref name="value"/> into a new parameter (the value stays owned by the caller).</summary>
    public static Parameter From(Tensor value, string name, bool weightDecay = true)
    {
        using var _ = TensorScope.Suspend();
        var p = new Parameter(new Storage(value.Count), value.ShapeArray(), name, weightDecay);
        value.Data.CopyTo(p.Data);
        return p;
    }

    /// <summary>False for biases and normalisation scales/shifts, which optimisers usually exempt from decay.</summary>
    public bool WeightDecay { get; set; }

    /// <summary>Copies values in (checkpoint load, ONNX import); shapes must match.</summary>
    public void CopyFrom(ReadOnlySpan<float> values)
    {
        if (values.Length != Count)
            throw new Reid.Core.ReidException($"parameter '{Name}' [{string.Join(", ", ShapeArray())}] cannot take {values.Length} values");
        values.CopyTo(Data);
    }

    private readonly Dictionary<string, (int Writes, Tensor Copy)> _converted = new();
    private readonly Lock _convertedGate = new();

    /// <summary>Number of converted copies made since start (tests: a cache hit makes none).</summary>
    internal int Conversions { get; private set; }

    /// <summary>
    /// The values in <paramref name="layout"/> (blocked and/or bf16, as a convolution wants its weights),
    /// converted from <paramref name="plainMd"/> (the plain f32 view of this storage, possibly with a group
    /// axis). The copy is kept and reused until the values may have changed: every writable access (optimiser
    /// step, <see cref="CopyFrom"/>, LoadStateDict, in-place op) bumps the storage's write count, so a weight
    /// is converted once per optimiser step instead of once per forward/backward primitive.
    /// </summary>
    internal NativeBuffer ConvertedBuffer(NativeLayout layout, Dnnl.MemoryDesc plainMd, ReadOnlySpan<int> plainShape)
    {
        lock (_convertedGate)
        {
            var writes = WriteCount;
            if (_converted.TryGetValue(layout.Key, out var entry) && !entry.Copy.IsReleased)
            {
                if (entry.Writes == writes) return entry.Copy.Buffer;
            }
            else
            {
                using var detached = TensorScope.Suspend();
                entry = (writes, Native(ShapeArray(), layout));
            }
            DnnlPlan.Reorder(plainMd, layout.Md, $"plain>{layout.Key}.{string.Join('x', plainShape.ToArray())}", Buffer, entry.Copy.Buffer);
            _converted[layout.Key] = (writes, entry.Copy);
            Conversions++;
            return entry.Copy.Buffer;
        }
    }
}
