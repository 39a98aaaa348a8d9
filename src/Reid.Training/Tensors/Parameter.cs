namespace Reid.Training.Tensors;

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
}
