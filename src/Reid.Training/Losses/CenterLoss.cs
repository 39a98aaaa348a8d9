namespace Reid.Training.Losses;

/// <summary>
/// Centre loss (Wen et al. 2016): L = 1/(2n) Σ_i ||x_i - c_{y_i}||², pulling each feature towards its
/// identity's centre. The centres (row-major [classes x d]) are not trained by the optimiser but follow
/// their features with the paper's rule c_j ← c_j - α Σ_{y_i=j}(c_j - x_i) / (1 + n_j); the caller keeps
/// them (the trainer as a model buffer, so checkpoints save them).
/// </summary>
public static class CenterLoss
{
    public static double Forward(ReadOnlySpan<float> features, int n, int d, ReadOnlySpan<float> centers, ReadOnlySpan<int> labels,
        Span<float> gradFeatures)
    {
        LossChecks.Matrix(features.Length, n, d, "features");
        if (centers.Length % d != 0) throw new ArgumentException("centres do not have the features' dimension");
        LossChecks.Labels(labels, n, centers.Length / d);
        var wantGrad = !gradFeatures.IsEmpty;
        if (wantGrad && gradFeatures.Length != n * d) throw new ArgumentException("gradient span has the wrong size", nameof(gradFeatures));
        var total = 0.0;
        for (var i = 0; i < n; i++)
        {
            var c = labels[i] * d;
            for (var k = 0; k < d; k++)
            {
                var diff = (double)features[i * d + k] - centers[c + k];
                total += diff * diff;
                if (wantGrad) gradFeatures[i * d + k] = (float)(diff / n);
            }
        }
        return total / (2 * n);
    }

    /// <summary>Moves each centre present in the batch towards the mean of its features (rate α).</summary>
    public static void UpdateCenters(ReadOnlySpan<float> features, int n, int d, Span<float> centers, ReadOnlySpan<int> labels, double alpha)
    {
        LossChecks.Matrix(features.Length, n, d, "features");
        LossChecks.Labels(labels, n, centers.Length / d);
        var delta = new Dictionary<int, (double[] Sum, int Count)>();
        for (var i = 0; i < n; i++)
        {
            if (!delta.TryGetValue(labels[i], out var e)) e = (new double[d], 0);
            var c = labels[i] * d;
            for (var k = 0; k < d; k++) e.Sum[k] += centers[c + k] - features[i * d + k];
            delta[labels[i]] = (e.Sum, e.Count + 1);
        }
        foreach (var (j, (sum, count)) in delta)
            for (var k = 0; k < d; k++) centers[j * d + k] -= (float)(alpha * sum[k] / (1 + count));
    }
}
