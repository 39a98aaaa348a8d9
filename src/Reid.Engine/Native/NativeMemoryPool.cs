using System.Runtime.InteropServices;

namespace Reid.Engine.Native;

/// <summary>
/// Native, 64-byte aligned buffers reused by exact size. A training step allocates the same sizes every
/// iteration, so after the first step almost nothing is allocated; oneDNN reads and writes these buffers in
/// place (no pinning, no copies). Fresh allocations are reported to the GC as memory pressure so that
/// tensors nobody disposed are finalised before native memory runs away.
/// </summary>
internal static unsafe class NativeMemoryPool
{
    private const int Alignment = 64;
    private static readonly Dictionary<long, Stack<IntPtr>> Free = new();
    private static readonly Lock Gate = new();
    private static long _inUse, _cached, _peak;

    public static long BytesInUse => Interlocked.Read(ref _inUse);
    public static long BytesCached => Interlocked.Read(ref _cached);
    public static long PeakBytesInUse => Interlocked.Read(ref _peak);

    public static void ResetPeak() => Interlocked.Exchange(ref _peak, BytesInUse);

    public static void Trim()
    {
        lock (Gate)
        {
            foreach (var (bytes, stack) in Free)
                while (stack.Count > 0)
                {
                    NativeMemory.AlignedFree((void*)stack.Pop());
                    _cached -= bytes;
                    GC.RemoveMemoryPressure(bytes);
                }
            Free.Clear();
        }
    }

    public static NativeBuffer Rent(long bytes)
    {
        bytes = Round(bytes);
        lock (Gate)
        {
            _inUse += bytes;
            if (_inUse > _peak) _peak = _inUse;
            if (Free.TryGetValue(bytes, out var stack) && stack.Count > 0)
            {
                _cached -= bytes;
                return new NativeBuffer(stack.Pop());
            }
        }
        var p = (IntPtr)NativeMemory.AlignedAlloc((nuint)bytes, Alignment);
        if (p == IntPtr.Zero) throw new OutOfMemoryException($"could not allocate {bytes} bytes for a tensor");
        GC.AddMemoryPressure(bytes);
        return new NativeBuffer(p);
    }

    public static void Return(NativeBuffer buffer, long bytes)
    {
        bytes = Round(bytes);
        lock (Gate)
        {
            _inUse -= bytes;
            _cached += bytes;
            if (!Free.TryGetValue(bytes, out var stack)) Free[bytes] = stack = new Stack<IntPtr>();
            stack.Push(buffer.Address);
        }
    }

    /// <summary>A buffer that lives for the whole process (constants such as a row of ones); never returned.</summary>
    public static NativeBuffer Permanent(long bytes)
    {
        var p = (IntPtr)NativeMemory.AlignedAlloc((nuint)Round(bytes), Alignment);
        if (p == IntPtr.Zero) throw new OutOfMemoryException($"could not allocate {bytes} bytes");
        return new NativeBuffer(p);
    }

    private static long Round(long bytes) => Math.Max(Alignment, (bytes + Alignment - 1) / Alignment * Alignment);
}

/// <summary>A rented native buffer returned to the pool on dispose (scratch for reorders, bf16 copies).</summary>
internal readonly struct PooledBuffer : IDisposable
{
    public readonly NativeBuffer Buffer;
    public readonly long Bytes;

    public PooledBuffer(long bytes)
    {
        Bytes = bytes;
        Buffer = NativeMemoryPool.Rent(bytes);
    }

    public void Dispose()
    {
        if (!Buffer.IsNone) NativeMemoryPool.Return(Buffer, Bytes);
    }
}
