using System.Collections.Concurrent;
using System.Globalization;

namespace Reid.Engine.Native;

/// <summary>
/// A oneDNN memory layout other than plain row-major f32 (e.g. nChw16c blocked), as chosen by a primitive.
/// Tensors keep conv/BN/eltwise/pooling outputs in such a layout so consecutive oneDNN ops need no
/// reorders; managed code sees plain data (the tensor converts itself on first plain access).
/// </summary>
internal sealed unsafe class NativeLayout
{
    private static readonly ConcurrentDictionary<string, NativeLayout> Known = new();

    public readonly Dnnl.MemoryDesc Md;
    public readonly string Key;
    public readonly long Bytes;

    private NativeLayout(Dnnl.MemoryDesc md, string key)
    {
        Md = md;
        Key = key;
        var copy = md;
        Bytes = (long)Dnnl.memory_desc_get_size(&copy);
        IsBf16 = DnnlRuntime.DataType(md) == Dnnl.BF16;
    }

    /// <summary>Elements stored as bf16 (activations of a bf16 training step), not f32.</summary>
    public readonly bool IsBf16;

    /// <summary>The layout for <paramref name="md"/>, or null when it is plain f32 for <paramref name="shape"/>.</summary>
    public static NativeLayout? From(Dnnl.MemoryDesc md, ReadOnlySpan<int> shape)
    {
        var plain = DnnlRuntime.PlainDesc(shape, Dnnl.F32);
        var probe = md;
        if (Dnnl.memory_desc_equal(&probe, &plain) != 0) return null;
        var key = Hash(md);
        return Known.TryGetValue(key, out var known) ? known : Known.GetOrAdd(key, new NativeLayout(md, key));
    }

    /// <summary>True when both describe the same storage layout (null = plain).</summary>
    public static bool Same(NativeLayout? a, NativeLayout? b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null) return false;
        var x = a.Md;
        var y = b.Md;
        return Dnnl.memory_desc_equal(&x, &y) != 0;
    }

    private static string Hash(Dnnl.MemoryDesc md)
    {
        // FNV-1a over the descriptor bytes: identical layouts share one key (and one set of cached primitives).
        ulong h = 14695981039346656037;
        ReadOnlySpan<byte> bytes = md;
        foreach (var b in bytes) h = (h ^ b) * 1099511628211;
        return h.ToString("x16", CultureInfo.InvariantCulture);
    }
}
