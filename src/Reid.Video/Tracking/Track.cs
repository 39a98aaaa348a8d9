using Reid.Imaging;

namespace Reid.Video.Tracking;

public enum TrackState { Tentative, Confirmed, Lost, Deleted }

/// <summary>One tracked person: Kalman state, life-cycle state and a moving average of its embeddings.</summary>
public sealed class Track
{
    internal Track(int id, KalmanState kalman, long frame, BoundingBox box)
    {
        Id = id;
        Kalman = kalman;
        LastBox = box;
        FirstFrame = LastFrame = frame;
        Hits = 1;
    }

    /// <summary>Unique within one tracker, in order of creation (tentative tracks that die leave gaps).</summary>
    public int Id { get; }
    public TrackState State { get; internal set; } = TrackState.Tentative;
    public KalmanState Kalman { get; }
    public int Hits { get; internal set; }
    /// <summary>Frames since the last match (0 right after one).</summary>
    public int FramesSinceUpdate { get; internal set; }
    public long FirstFrame { get; }
    public long LastFrame { get; internal set; }
    /// <summary>The L2-normalised moving average of its embeddings, or null before the first one.</summary>
    public float[]? Feature { get; private set; }
    /// <summary>Tracker frame of the last embedding, or −∞ before the first.</summary>
    public long LastEmbeddingFrame { get; private set; } = long.MinValue / 2;

    public BoundingBox PredictedBox => Kalman.Box;
    /// <summary>The box of its last matched detection.</summary>
    public BoundingBox LastBox { get; internal set; }
    public bool IsActive => State != TrackState.Deleted;

    internal void AddEmbedding(float[] embedding, double momentum, long frame)
    {
        if (Feature is null) Feature = (float[])embedding.Clone();
        else
        {
            for (int i = 0; i < Feature.Length; i++) Feature[i] = (float)(momentum * Feature[i] + (1 - momentum) * embedding[i]);
            Embeddings.Normalise(Feature);
        }
        LastEmbeddingFrame = frame;
    }
}

/// <summary>Small helpers on L2-normalised embeddings.</summary>
public static class Embeddings
{
    public static void Normalise(Span<float> v)
    {
        double s = 0;
        foreach (var x in v) s += x * x;
        if (s <= 0) return;
        float inv = (float)(1 / Math.Sqrt(s));
        for (int i = 0; i < v.Length; i++) v[i] *= inv;
    }

    /// <summary>1 − cosine similarity of two L2-normalised vectors (0 same direction, 2 opposite).</summary>
    public static double CosineDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        1 - System.Numerics.Tensors.TensorPrimitives.Dot(a, b);

    /// <summary>The mean of several embeddings, re-normalised.</summary>
    public static float[] Mean(IReadOnlyList<float[]> vectors)
    {
        if (vectors.Count == 0) throw new ArgumentException("no embeddings to average", nameof(vectors));
        var m = new float[vectors[0].Length];
        foreach (var v in vectors) System.Numerics.Tensors.TensorPrimitives.Add(m, v, m);
        Normalise(m);
        return m;
    }
}
