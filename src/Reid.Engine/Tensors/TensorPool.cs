using Reid.Engine.Native;

namespace Reid.Engine.Tensors;

/// <summary>
/// How much native memory tensors hold. Buffers are reused by exact size (see
/// <see cref="NativeMemoryPool"/>): after a training step's first iteration almost nothing is allocated.
/// </summary>
public static class TensorPool
{
    /// <summary>Bytes currently held by live tensors and scratch buffers.</summary>
    public static long BytesInUse => NativeMemoryPool.BytesInUse;

    /// <summary>Bytes kept for reuse (freed by <see cref="Trim"/>).</summary>
    public static long BytesCached => NativeMemoryPool.BytesCached;

    /// <summary>Highest <see cref="BytesInUse"/> since start or <see cref="ResetPeak"/>.</summary>
    public static long PeakBytesInUse => NativeMemoryPool.PeakBytesInUse;

    public static void ResetPeak() => NativeMemoryPool.ResetPeak();

    /// <summary>Returns every cached buffer to the operating system.</summary>
    public static void Trim() => NativeMemoryPool.Trim();
}
