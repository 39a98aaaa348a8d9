namespace Reid.Imaging;

/// <summary>One file of a batch decode: the image, or why it could not be read.</summary>
public sealed record DecodeResult(string Path, RgbImage? Image, ImageDecodeException? Error);

/// <summary>Decoding and preprocessing many images at once, on all cores (each thread keeps its own JPEG decoder).</summary>
public static class ImageBatch
{
    /// <summary>Decodes every file; throws the error of the first (lowest-index) bad file.</summary>
    public static RgbImage[] DecodeAll(IReadOnlyList<string> paths, ImageDecodeOptions? options = null, int maxParallelism = -1)
    {
        var results = TryDecodeAll(paths, options, maxParallelism);
        foreach (var r in results)
            if (r.Error is not null) throw r.Error;
        return results.Select(r => r.Image!).ToArray();
    }

    /// <summary>Decodes every file, keeping per-file errors (for --skip-bad: count and warn, carry on).</summary>
    public static DecodeResult[] TryDecodeAll(IReadOnlyList<string> paths, ImageDecodeOptions? options = null, int maxParallelism = -1)
    {
        var results = new DecodeResult[paths.Count];
        Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = maxParallelism }, i =>
        {
            try { results[i] = new DecodeResult(paths[i], ImageCodec.Decode(paths[i], options), null); }
            catch (ImageDecodeException e) { results[i] = new DecodeResult(paths[i], null, e); }
        });
        return results;
    }

    /// <summary>Preprocesses images into consecutive NCHW slots of <paramref name="destination"/>.</summary>
    public static void Preprocess(IReadOnlyList<RgbImage> images, Preprocessing preprocessing, Memory<float> destination,
        bool flip = false, int maxParallelism = -1)
    {
        preprocessing.Validate();
        var n = preprocessing.TensorLength;
        if (destination.Length < (long)n * images.Count)
            throw new ArgumentException($"destination holds {destination.Length} floats; {(long)n * images.Count} needed", nameof(destination));
        // Small batches are cheaper on the calling thread than a hand-off to the pool.
        if (images.Count <= 1 || maxParallelism == 1)
        {
            for (var i = 0; i < images.Count; i++) preprocessing.Apply(images[i], destination.Span.Slice(i * n, n), flip);
            return;
        }
        Parallel.For(0, images.Count, new ParallelOptions { MaxDegreeOfParallelism = maxParallelism },
            i => preprocessing.Apply(images[i], destination.Span.Slice(i * n, n), flip));
    }

    /// <summary>Decodes and preprocesses files into one NCHW batch (length Count * TensorLength).</summary>
    public static float[] DecodeAndPreprocess(IReadOnlyList<string> paths, Preprocessing preprocessing, bool flip = false,
        ImageDecodeOptions? options = null, int maxParallelism = -1)
    {
        preprocessing.Validate();
        var n = preprocessing.TensorLength;
        var batch = new float[(long)n * paths.Count];
        var errors = new ImageDecodeException?[paths.Count];
        Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = maxParallelism }, i =>
        {
            try { preprocessing.Apply(ImageCodec.Decode(paths[i], options), batch.AsSpan(i * n, n), flip); }
            catch (ImageDecodeException e) { errors[i] = e; }
        });
        foreach (var e in errors)
            if (e is not null) throw e;
        return batch;
    }
}
