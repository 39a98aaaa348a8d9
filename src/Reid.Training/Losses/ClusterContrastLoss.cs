namespace Reid.Training.Losses;

/// <summary>
/// The cluster-level contrastive loss of Cluster Contrast (Dai et al. 2021): each image's L2-normalised feature f
/// against a memory of unit cluster centroids M, InfoNCE over all clusters, L = −1/n Σ_i log softmax(f_i·Mᵀ/τ)[y_i],
/// with y_i the image's pseudo-identity. The memory is not differentiated (it follows the features, see
/// Adaptation.ClusterMemory).
/// </summary>
public static class ClusterContrastLoss
{

    public static double Forward(ReadOnlySpan<float> features, int n, int d, ReadOnlySpan<float> memory, int clusters,
        ReadOnlySpan<int> labels, double temperature, Span<float> grad)
    {
        LossChecks.Matrix(features.Length, n, d, "features");
        LossChecks.Matrix(memory.Length, clusters, d, "cluster memory");
        LossChecks.Labels(labels, n, clusters);
        if (temperature <= 0) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be above 0");
        var wantGrad = !grad.IsEmpty;
        if (wantGrad && grad.Length != n * d) throw new ArgumentException("gradient span has the wrong size", nameof(grad));
        var total = 0.0;
        var logits = new double[clusters];
        var unit = new double[d];
        var g = new double[d];
        for (var i = 0; i < n; i++)
        {
            var norm = UnitRows.Normalise(features.Slice(i * d, d), unit);
            var max = double.NegativeInfinity;
            for (var c = 0; c < clusters; c++)
            {
                var m = memory.Slice(c * d, d);
                double dot = 0;
                for (var k = 0; k < d; k++) dot += unit[k] * m[k];
                logits[c] = dot / temperature;
                max = Math.Max(max, logits[c]);
            }
            double z = 0;
            for (var c = 0; c < clusters; c++) { logits[c] = Math.Exp(logits[c] - max); z += logits[c]; }
            total += -Math.Log(Math.Max(logits[labels[i]] / z, 1e-300));
            if (!wantGrad) continue;
            // dL/df = Σ_c (p_c − [c = y]) M_c / τ / n, then through f = x/|x|: (g − (g·f) f) / |x|
            Array.Clear(g);
            for (var c = 0; c < clusters; c++)
            {
                var coef = (logits[c] / z - (c == labels[i] ? 1 : 0)) / temperature / n;
                if (coef == 0) continue;
                var m = memory.Slice(c * d, d);
                for (var k = 0; k < d; k++) g[k] += coef * m[k];
            }
            UnitRows.Backward(g, unit, norm, grad.Slice(i * d, d));
        }
        return total / n;
    }
}
