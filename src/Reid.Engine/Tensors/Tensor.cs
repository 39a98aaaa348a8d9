using System.Numerics.Tensors;
using System.Text;
using Reid.Core;
using Reid.Engine.Native;

namespace Reid.Engine.Tensors;

/// <summary>
/// A dense, contiguous, row-major (NCHW for images) f32 tensor in pooled native memory that oneDNN reads and
/// writes in place. Tensors produced by operations while gradients are recorded remember how they were
/// made (<see cref="GradFn"/>); <c>Backward()</c> (Autograd) walks that graph. After Backward the storage of
/// intermediate results is returned to the pool unless <see cref="Retain"/> was called.
/// </summary>
public class Tensor : IDisposable
{
    private readonly int[] _shape;
    private Storage? _storage;
    private bool _requiresGrad;

    internal Tensor(Storage storage, int[] shape, NativeLayout? layout = null)
    {
        _storage = storage;
        _shape = shape;
        Layout = layout;
        Count = CountOf(shape, "tensor");
        // Native layouts may be smaller (bf16) or larger (channel padding) than Count floats.
        if (layout is null && storage.Count < Count) throw new InvalidOperationException("storage size does not match shape");
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

    /// <summary>The plain row-major buffer (converts a native-layout tensor first), for writing or reading.</summary>
    internal NativeBuffer PlainBuffer
    {
        get
        {
            EnsurePlain();
            var s = StorageRef;
            // Whoever gets the plain buffer may write into it: derived copies (cached weights) are stale.
            s.Writes++;
            return s.Buffer;
        }
    }

    /// <summary>Changes whenever the values may have been written (see <see cref="Storage.Writes"/>).</summary>
    internal int WriteCount => _storage?.Writes ?? -1;

    /// <summary>The oneDNN layout of the storage; null = plain row-major f32.</summary>
    internal NativeLayout? Layout { get; private set; }

    internal string LayoutKey => Layout?.Key ?? "plain";

    /// <summary>Stored as bf16 (a bf16 step's activations and their gradients); plain access converts to f32.</summary>
    internal bool IsBf16 => Layout is { IsBf16: true };

    /// <summary>The memory descriptor of the storage as it is now.</summary>
    internal Dnnl.MemoryDesc Md => Layout?.Md ?? DnnlRuntime.PlainDesc(_shape, Dnnl.F32);

    /// <summary>The storage in its current layout (for oneDNN ops that read <see cref="Md"/>).</summary>
    internal NativeBuffer Buffer => StorageRef.Buffer;

    /// <summary>Floats in the storage (more than <see cref="Count"/> for channel-padded blocked layouts).</summary>
    internal int StorageCount => StorageRef.Count;

    /// <summary>A new tensor whose storage is in <paramref name="layout"/> (plain when null).</summary>
    internal static Tensor Native(int[] shape, NativeLayout? layout)
    {
        if (layout is null) return Empty(shape);
        return new Tensor(new Storage((int)((layout.Bytes + 3) / 4)), (int[])shape.Clone(), layout);
    }

    private readonly Lock _layoutGate = new();

    /// <summary>Converts the storage to plain row-major in place (same values, new buffer).</summary>
    internal void EnsurePlain()
    {
        if (Layout is null) return;
        ConvertTo(null);
    }

    /// <summary>Re-lays the storage out in <paramref name="target"/> (null = plain), keeping the values.</summary>
    internal void ConvertTo(NativeLayout? target)
    {
        if (NativeLayout.Same(Layout, target)) return;
        lock (_layoutGate)
        {
            var layout = Layout;
            if (NativeLayout.Same(layout, target)) return;
            var old = StorageRef;
            var fresh = target is null ? new Storage(Count) : new Storage((int)((target.Bytes + 3) / 4));
            var plainMd = DnnlRuntime.PlainDesc(_shape, Dnnl.F32);
            DnnlPlan.Reorder(layout?.Md ?? plainMd, target?.Md ?? plainMd, $"{layout?.Key ?? "plain"}>{target?.Key ?? "plain"}.{string.Join('x', _shape)}",
                old.Buffer, fresh.Buffer);
            _storage = fresh;
            Layout = target;
            old.Release();
        }
    }

    /// <summary>A new tensor holding these values in <paramref name="target"/> layout (e.g. bf16 blocked for a convolution; null = plain f32).</summary>
    internal Tensor CopyAs(NativeLayout? target)
    {
        var t = Native(_shape, target);
        var plainMd = DnnlRuntime.PlainDesc(_shape, Dnnl.F32);
        DnnlPlan.Reorder(Layout?.Md ?? plainMd, target?.Md ?? plainMd, $"{LayoutKey}>{target?.Key ?? "plain"}.{string.Join('x', _shape)}",
            Buffer, t.Buffer);
        return t;
    }

    /// <summary>This tensor when its storage is already in <paramref name="target"/> layout, else a new copy in it.</summary>
    internal Tensor InLayout(NativeLayout? target) => NativeLayout.Same(Layout, target) ? this : CopyAs(target);

    /// <summary>The values, row-major (a tensor held in a oneDNN blocked layout is converted on first access).</summary>
    public Span<float> Data => PlainBuffer.Floats(0, Count);

    public float Item()
    {
        if (Count != 1) throw new ReidException($"Item() needs a single value but {Describe()} has {Count}");
        return Data[0];
    }

    public float[] ToArray() => Data.ToArray();

    /// <summary>A copy that shares nothing and records nothing (in the same storage layout).</summary>
    public Tensor Clone()
    {
        if (Layout is { } layout)
        {
            var n = StorageCount;
            var c = Native(_shape, layout);
            StorageRef.Span[..n].CopyTo(c.StorageRef.Span);
            return c;
        }
        var t = Empty(_shape);
        Data.CopyTo(t.Data);
        return t;
    }

    /// <summary>A tensor sharing this storage but cut from the graph.</summary>
    public Tensor Detach()
    {
        EnsurePlain();
        var s = StorageRef;
        s.AddRef();
        return new Tensor(s, (int[])_shape.Clone()) { Name = Name };
    }

    /// <summary>Version of the storage (changes when an in-place op overwrites it).</summary>
    internal int Version => _storage?.Version ?? -1;

    /// <summary>A second tensor over the same storage and layout (result of an in-place op).</summary>
    internal Tensor AliasForInPlace()
    {
        var s = StorageRef;
        s.AddRef();
        s.Version++;
        s.Writes++;
        return new Tensor(s, (int[])_shape.Clone(), Layout);
    }

    internal Tensor ViewAs(int[] shape)
    {
        EnsurePlain();
        var s = StorageRef;
        s.AddRef();
        return new Tensor(s, shape);
    }

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
    internal void AddInPlace(Tensor other)
    {
        if (IsBf16 || other.IsBf16)
        {
            if (IsBf16 && other.IsBf16)
            {
                other.ConvertTo(Layout);
                StorageRef.Writes++;
                DnnlPlan.Add(Layout!.Md, Layout.Key, Buffer, other.Buffer, Buffer);
                return;
            }
            // One of them is f32: accumulate in f32 (it holds every bf16 value exactly).
            if (IsBf16) ConvertTo(other.Layout);
            else other.ConvertTo(Layout);
        }
        if (Layout is not null)
        {
            // Gradients meeting at a residual fork: keep the blocked layout, move the other one into it.
            if (!NativeLayout.Same(Layout, other.Layout)) other.ConvertTo(Layout);
            var n = StorageCount;
            StorageRef.Writes++;
            var a = StorageRef.Span[..n];
            TensorPrimitives.Add(a, other.StorageRef.Span[..n], a);
            return;
        }
        TensorPrimitives.Add(Data, other.Data, Data);
    }
}
