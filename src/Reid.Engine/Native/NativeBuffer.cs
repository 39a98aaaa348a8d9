namespace Reid.Engine.Native;

/// <summary>
/// A 64-byte aligned block of native memory that oneDNN reads and writes in place. Code above <c>Native/</c>
/// passes these to primitives and reads them as spans; it never sees the address, so no pointer arithmetic
/// happens outside this folder.
/// </summary>
internal readonly unsafe struct NativeBuffer
{
    internal NativeBuffer(IntPtr address) => Address = address;

    internal readonly IntPtr Address;

    /// <summary>No buffer (an absent optional argument).</summary>
    public static NativeBuffer None => default;

    public bool IsNone => Address == IntPtr.Zero;

    /// <summary><paramref name="count"/> floats starting <paramref name="start"/> floats into the buffer.</summary>
    public Span<float> Floats(int start, int count) => new((float*)Address + start, count);

    /// <summary><paramref name="count"/> 16-bit values (bf16 payloads) from the start of the buffer.</summary>
    public Span<ushort> Halves(int count) => new((void*)Address, count);
}
