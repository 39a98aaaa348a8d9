namespace Reid.Training.Tensors;

/// <summary>
/// Reference-counted native float buffer shared by a tensor and its reshaped views. The finaliser returns
/// the buffer to the pool when a tensor is dropped without being disposed.
/// </summary>
internal sealed unsafe class Storage
{
    private IntPtr _ptr;
    private int _refs = 1;
    public readonly int Count;

    public Storage(int count)
    {
        Count = count;
        _ptr = TensorPool.Rent(Bytes);
    }

    public long Bytes => Math.Max(1L, Count) * sizeof(float);
    public float* Pointer => (float*)_ptr;
    public bool IsFreed => _ptr == IntPtr.Zero;

    /// <summary>Bumped by in-place ops; backward refuses inputs whose version changed since they were recorded.</summary>
    public int Version;

    /// <summary>
    /// Bumped whenever writable access to the values is handed out (plain <c>Data</c>/pointer, in-place ops):
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
        var p = Interlocked.Exchange(ref _ptr, IntPtr.Zero);
        if (p == IntPtr.Zero) return;
        TensorPool.Return(p, Bytes);
        GC.SuppressFinalize(this);
    }

    ~Storage() => Free();
}
