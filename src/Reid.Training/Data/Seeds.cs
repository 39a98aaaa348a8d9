namespace Reid.Training.Data;

/// <summary>
/// Derives independent, reproducible seeds from a run seed and positions (epoch, batch, sample) with
/// SplitMix64 steps. Not HashCode.Combine: that one is randomised per process, and a resumed run in a new
/// process must draw exactly what the interrupted one would have.
/// </summary>
public static class Seeds
{
    /// <summary>Stream tags, so the sampler and the augmentations never share a random sequence.</summary>
    public const long Sampler = 0x5A, Augmentation = 0xA6, Model = 0x30, Folds = 0xF0;

    public static ulong Of(params ReadOnlySpan<long> parts)
    {
        var h = 0x9E3779B97F4A7C15UL;
        foreach (var p in parts) h = Mix(h ^ Mix((ulong)p + 0x9E3779B97F4A7C15UL));
        return h;
    }

    public static int Int(params ReadOnlySpan<long> parts) => (int)(Of(parts) & 0x7FFFFFFF);

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
