using System.Numerics.Tensors;
using System.Text;
using Reid.Core;
using Reid.Training.Autograd;
using Reid.Training.Layers;

namespace Reid.Training.Tensors;

/// <summary>
/// A dense, contiguous, row-major (NCHW for images) f32 tensor in pooled native memory that oneDNN reads and
/// writes in place. Tensors produced by operations while gradients are recorded remember how they were
/// made (<see cref="GradFn"/>); <see cref="Backward"/> walks that graph. After Backward the storage of
/// intermediate results is returned to the pool unless <see cref="Retain"/> was called.
/// </summary>
public class Tensor : IDisposable
{
    private readonly int[] _shape;
    private Storage? _storage;
    private bool _requiresGrad;

    internal Tensor(Storage storage, int[] shape)
    {
        _storage = storage;
        _shape = shape;
        Count = CountOf(shape, "tensor");
        if (storage.Count != Count) throw new InvalidOperationException("storage size does not match shape");
        TensorScope.Register(this);
    }

    /// <summary>A new uninitialised tensor (contents are whatever the pooled buffer held).</summary>
    public static Tensor Empty(params int[] shape) => new(new Storage(CountOf(shape, "tensor")), (int[])shape.Clone());

    public static Tensor Zeros(params int[] shape)
    {
        var t = Empty(shape);
        t.Data.Clear();
        return t;
    }

    public static Tensor Full(float value, params int[] shape)
    {
        var t = Empty(shape);
        t.Data.Fill(value);
        return t;
    }

    public static Tensor Ones(params int[] shape) => Full(1f, shape);

    public static Tensor FromArray(ReadOnlySpan<float> data, params int[] shape)
    {
        var n = CountOf(shape, "tensor");
        if (data.Length != n)
            throw new ReidException($"tensor data has {data.Length} values but shape [{string.Join(", ", shape)}] needs {n}");
        var t = Empty(shape);
        data.CopyTo(t.Data);
        return t;
    }

    public static Tensor Scalar(float value) => FromArray([value], 1);

    /// <summary>Normal(mean, std) values.</summary>
    public static Tensor RandomNormal(Rng rng, float mean, float std, params int[] shape)
    {
        var t = Empty(shape);
        var d = t.Data;
        for (var i = 0; i < d.Length; i++) d[i] = mean + std * (float)rng.NextGaussian();
        return t;
    }

    /// <summary>Uniform values in [low, high).</summary>
    public static Tensor RandomUniform(Rng rng, float low, float high, params int[] shape)
    {
        var t = Empty(shape);
        var d = t.Data;
        for (var i = 0; i < d.Length; i++) d[i] = low + (high - low) * rng.NextFloat();
        return t;
    }

    public ReadOnlySpan<int> Shape => _shape;
    public int Rank => _shape.Length;

    /// <summary>Number of elements.</summary>
    public int Count { get; }

    /// <summary>A label used in error messages and traces (parameters carry their local name).</summary>
    public string? Name { get; set; }

    /// <summary>Size of an axis; negative axes count from the end.</summary>
    public int Dim(int axis) => _shape[NormalizeAxis(axis)];

    public int[] ShapeArray() => (int[])_shape.Clone();

    public int NormalizeAxis(int axis)
    {
        var a = axis < 0 ? axis + Rank : axis;
        if (a < 0 || a >= Rank) throw new ReidException($"axis {axis} is out of range for {Describe()}");
        return a;
    }

    /// <summary>Whether gradients flow to this tensor. Only leaves (inputs, parameters) may set it.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (GradFn is not null && !value) throw new ReidException($"{Describe()} is the result of an operation; use Detach() instead");
            _requiresGrad = value;
        }
    }

    /// <summary>The accumulated gradient (leaves that require grad, and retained intermediates).</summary>
    public Tensor? Grad { get; set; }

    /// <summary>The recorded operation that produced this tensor; null for leaves.</summary>
    public GradNode? GradFn { get; internal set; }

    public bool IsLeaf => GradFn is null;

    /// <summary>True when Retain() asked Backward to keep this intermediate's value and gradient.</summary>
    public bool IsRetained { get; private set; }

    /// <summary>Produced by a recorded op (or saved for its backward): Backward may free it.</summary>
    internal bool IsIntermediate { get; set; }

    public bool IsReleased => _storage is null || _storage.IsFreed;

    /// <summary>Keep this intermediate's value after Backward and store its gradient in <see cref="Grad"/>.</summary>
    public Tensor Retain()
    {
        IsRetained = true;
        return this;
    }

    internal Storage StorageRef => _storage is { IsFreed: false } s ? s : throw Released();

    internal unsafe float* Pointer => StorageRef.Pointer;

    internal IntPtr Handle
    {
        get { unsafe { return (IntPtr)Pointer; } }
    }

    public unsafe Span<float> Data => new(StorageRef.Pointer, Count);

    public float Item()
    {
        if (Count != 1) throw new ReidException($"Item() needs a single value but {Describe()} has {Count}");
        return Data[0];
    }

    public float[] ToArray() => Data.ToArray();

    /// <summary>A copy that shares nothing and records nothing.</summary>
    public Tensor Clone()
    {
        var t = Empty(_shape);
        Data.CopyTo(t.Data);
        return t;
    }

    /// <summary>A tensor sharing this storage but cut from the graph.</summary>
    public Tensor Detach()
    {
        var s = StorageRef;
        s.AddRef();
        return new Tensor(s, (int[])_shape.Clone()) { Name = Name };
    }

    /// <summary>Same storage, new shape (one axis may be -1). Recorded for autograd.</summary>
    public Tensor Reshape(params int[] shape) => Ops.Reshape(this, shape);

    internal Tensor ViewAs(int[] shape)
    {
        var s = StorageRef;
        s.AddRef();
        return new Tensor(s, shape);
    }

    /// <summary>Back-propagates from this tensor (a scalar unless a gradient is given).</summary>
    public void Backward(Tensor? gradient = null) => Tape.Backward(this, gradient);

    /// <summary>Sets <see cref="Grad"/> to null (its buffer goes back to the pool).</summary>
    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    /// <summary>Frees the storage now (views keep it alive until they are disposed too).</summary>
    public void Dispose()
    {
        var s = Interlocked.Exchange(ref _storage, null);
        s?.Release();
        GC.SuppressFinalize(this);
    }

    internal void ReleaseStorage()
    {
        var s = Interlocked.Exchange(ref _storage, null);
        s?.Release();
    }

    public string Describe()
    {
        var sb = new StringBuilder("tensor");
        if (Name is not null) sb.Append(" '").Append(Name).Append('\'');
        if (GradFn is not null) sb.Append(" (output of ").Append(GradFn.Op).Append(')');
        sb.Append(" [").Append(string.Join(", ", _shape)).Append(']');
        return sb.ToString();
    }

    public override string ToString() => Describe();

    internal static int CountOf(ReadOnlySpan<int> shape, string what)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ReidException($"{what} shape [{string.Join(", ", shape.ToArray())}] has a negative size");
            n *= d;
            if (n > int.MaxValue) throw new ReidException($"{what} shape [{string.Join(", ", shape.ToArray())}] is too large");
        }
        return (int)n;
    }

    internal bool SameShape(Tensor other) => _shape.AsSpan().SequenceEqual(other._shape);

    private ReidException Released() => new(
        $"{Describe()} was released (by Backward() or Dispose()); call Retain() before Backward() to keep an intermediate result");

    /// <summary>Adds <paramref name="other"/> into this tensor in place (no autograd).</summary>
    internal void AddInPlace(Tensor other) => TensorPrimitives.Add(Data, other.Data, Data);
}
