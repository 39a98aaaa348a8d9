using Reid.Imaging;

namespace Reid.Gallery;

/// <summary>
/// What the gallery needs of a ReID model: a stable id (stored with every embedding, so vectors of different
/// models are never compared), the vector length, and crops → L2-normalised vectors. Calls are serialised:
/// one inference at a time keeps memory bounded on a small machine and needs no thread-safety from the model.
/// </summary>
public sealed class EmbeddingModel : IDisposable
{
    private readonly Func<IReadOnlyList<RgbImage>, float[][]> _embed;
    private readonly IDisposable? _owner;
    private readonly Lock _gate = new();

    public string Id { get; }
    public int Dimension { get; }

    public EmbeddingModel(string id, int dimension, Func<IReadOnlyList<RgbImage>, float[][]> embed, IDisposable? owner = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        (Id, Dimension, _embed, _owner) = (id, dimension, embed, owner);
    }

    public float[][] Embed(IReadOnlyList<RgbImage> crops)
    {
        if (crops.Count == 0) return [];
        float[][] vectors;
        lock (_gate) vectors = _embed(crops);
        if (vectors.Length != crops.Count || vectors.Any(v => v.Length != Dimension))
            throw new InvalidOperationException($"model {Id} returned {vectors.Length} vectors for {crops.Count} crops or a wrong length");
        return vectors;
    }

    public void Dispose() => _owner?.Dispose();
}
