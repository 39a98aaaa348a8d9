using Reid.Data;
using Reid.Imaging;

namespace Reid.Evaluation;

/// <summary>Images that were embedded, in input order, and the ones skipped as unreadable.</summary>
public sealed record EmbeddedImages(IReadOnlyList<ImageRecord> Records, float[][] Embeddings, IReadOnlyList<ImageDecodeException> Bad);

/// <summary>
/// Decodes and embeds a list of images in batches: decoding of the next batch (all cores) overlaps the model
/// running on the current one. The model is any function from images to embeddings (an ONNX embedder, or a
/// model being trained), so this stays independent of how embeddings are computed.
/// </summary>
public static class DatasetEmbedding
{
    /// <param name="skipBad">When false the first unreadable image aborts with its <see cref="ImageDecodeException"/>;
    /// when true it is left out and reported in <see cref="EmbeddedImages.Bad"/>.</param>
    /// <param name="progress">Receives the number of images done after each batch.</param>
    public static EmbeddedImages Run(IReadOnlyList<ImageRecord> records, Func<IReadOnlyList<RgbImage>, float[][]> embed,
                                     int batchSize = 64, bool skipBad = false, Action<int>? progress = null,
                                     CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var kept = new List<ImageRecord>(records.Count);
        var embeddings = new List<float[]>(records.Count);
        var bad = new List<ImageDecodeException>();
        var batches = Enumerable.Range(0, (records.Count + batchSize - 1) / batchSize)
            .Select(b => records.Skip(b * batchSize).Take(batchSize).ToArray()).ToArray();
        Task<DecodeResult[]> Decode(int b) => Task.Run(() => ImageBatch.TryDecodeAll(batches[b].Select(r => r.Path).ToArray()), cancellation);

        var next = batches.Length > 0 ? Decode(0) : null;
        var done = 0;
        for (var b = 0; b < batches.Length; b++)
        {
            var decoded = next!.GetAwaiter().GetResult();
            next = b + 1 < batches.Length ? Decode(b + 1) : null;
            cancellation.ThrowIfCancellationRequested();
            var images = new List<RgbImage>(decoded.Length);
            for (var i = 0; i < decoded.Length; i++)
            {
                if (decoded[i].Error is { } error)
                {
                    if (!skipBad) throw error;
                    bad.Add(error);
                    continue;
                }
                images.Add(decoded[i].Image!);
                kept.Add(batches[b][i]);
            }
            if (images.Count > 0)
            {
                var vectors = embed(images);
                if (vectors.Length != images.Count)
                    throw new InvalidOperationException($"the model returned {vectors.Length} embeddings for {images.Count} images");
                embeddings.AddRange(vectors);
            }
            done += decoded.Length;
            progress?.Invoke(done);
        }
        return new EmbeddedImages(kept, embeddings.ToArray(), bad);
    }
}
