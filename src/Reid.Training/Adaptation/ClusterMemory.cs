namespace Reid.Training.Adaptation;

/// <summary>
/// One unit vector per pseudo-identity, as Cluster Contrast keeps them (Dai et al. 2021): initialised to each
/// cluster's normalised mean feature when the images are re-clustered, then after every step moved towards the
/// batch's hardest member of each cluster present (the one least similar to its centroid),
/// M_c ← normalise(m·M_c + (1 − m)·f_hard). Updating with the hardest instance rather than every instance keeps
/// the centroid from being dominated by the easy, near-duplicate crops a cluster is mostly made of.
/// </summary>
public sealed class ClusterMemory
{
    public ClusterMemory(float[][] unitFeatures, int[] labels, int clusters, double momentum)
    {
        if (unitFeatures.Length != labels.Length) throw new ArgumentException($"{unitFeatures.Length} features for {labels.Length} labels");
        if (momentum is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum lies in [0, 1)");
        Dim = unitFeatures.Length > 0 ? unitFeatures[0].Length : 0;
        Clusters = clusters;
        Momentum = momentum;
        Centroids = new float[clusters * Dim];
        var sums = new double[clusters * Dim];
        var counts = new int[clusters];
        for (var i = 0; i < labels.Length; i++)
        {
            var c = labels[i];
            if (c < 0) continue;
            if (c >= clusters) throw new ArgumentException($"label {c} outside [0, {clusters})");
            counts[c]++;
            for (var k = 0; k < Dim; k++) sums[c * Dim + k] += unitFeatures[i][k];
        }
        for (var c = 0; c < clusters; c++)
        {
            if (counts[c] == 0) throw new ArgumentException($"cluster {c} has no member");
            Normalise(sums.AsSpan(c * Dim, Dim), Centroids.AsSpan(c * Dim, Dim));
        }
    }

    public int Clusters { get; }
    public int Dim { get; }
    public double Momentum { get; }
    /// <summary>Row-major [clusters x dim] unit rows.</summary>
    public float[] Centroids { get; }

    /// <summary>Moves each cluster in the batch towards its hardest member; <paramref name="features"/> need not be normalised.</summary>
    public void Update(ReadOnlySpan<float> features, ReadOnlySpan<int> labels)
    {
        var n = labels.Length;
        if (features.Length != n * Dim) throw new ArgumentException($"{features.Length} values are not {n} features of {Dim}");
        var hardest = new Dictionary<int, (int Index, double Similarity)>();
        var unit = new double[n * Dim];
        for (var i = 0; i < n; i++)
        {
            Normalise(features.Slice(i * Dim, Dim), unit.AsSpan(i * Dim, Dim));
            var c = labels[i];
            double sim = 0;
            for (var k = 0; k < Dim; k++) sim += unit[i * Dim + k] * Centroids[c * Dim + k];
            if (!hardest.TryGetValue(c, out var h) || sim < h.Similarity) hardest[c] = (i, sim);
        }
        var mixed = new double[Dim];
        foreach (var (c, (i, _)) in hardest)
        {
            for (var k = 0; k < Dim; k++) mixed[k] = Momentum * Centroids[c * Dim + k] + (1 - Momentum) * unit[i * Dim + k];
            Normalise(mixed, Centroids.AsSpan(c * Dim, Dim));
        }
    }

    private static void Normalise(ReadOnlySpan<double> x, Span<float> into)
    {
        double ss = 0;
        foreach (var v in x) ss += v * v;
        var norm = Math.Max(Math.Sqrt(ss), 1e-12);
        for (var k = 0; k < x.Length; k++) into[k] = (float)(x[k] / norm);
    }

    private static void Normalise(ReadOnlySpan<float> x, Span<double> into)
    {
        double ss = 0;
        foreach (var v in x) ss += (double)v * v;
        var norm = Math.Max(Math.Sqrt(ss), 1e-12);
        for (var k = 0; k < x.Length; k++) into[k] = x[k] / norm;
    }
}
