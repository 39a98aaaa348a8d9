using Reid.Engine.Native;

namespace Reid.Engine.Tensors;

/// <summary>
/// Reference-counted native float buffer shared by a tensor and its reshaped views. The finaliser returns
/// the buffer to the pool when a tensor is dropped without being disposed.
/// </summary>
internal sealed class Storage
{
    private readonly NativeBuffer _buffer;
    private int _refs = 1;
    private int _freed;
    public readonly int Count;

    public Storage(int count)
    {
        Count = count;
        _buffer = NativeMemoryPool.Rent(Bytes);
    }

    public long Bytes => Math.Max(1L, Count) * sizeof(float);
    public bool IsFreed => Volatile.Read(ref _freed) != 0;

    /// <summary>The buffer as oneDNN sees it (in whatever layout the tensor holds).</summary>
    public NativeBuffer Buffer => _buffer;

    /// <summary>All <see cref="Count"/> floats of the buffer (raw: blocked layouts include padding).</summary>
    public Span<float> Span => _buffer.Floats(0, Count);

    /// <summary>Bumped by in-place ops; backward refuses inputs whose version changed since they were recorded.</summary>
    public int Version;

    /// <summary>
    /// Bumped whenever writable access to the values is handed out (plain <c>Data</c>/buffer, in-place ops):
    /// copies derived from the values (a parameter's converted weights) are valid only for the same count.
    /// </summary>
    public int Writes;

    public void AddRef() => Interlocked.Increment(ref _refs);

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0) Free();
    }

    private void Free()
    {
        if (Interlocked.Exchange(ref _freed, 1) != 0) return;
        NativeMemoryPool.Return(_buffer, Bytes);
        GC.SuppressFinalize(this);
    }

    ~Storage() => Free();
}
