namespace Reid.Training.Losses;

/// <summary>
/// Softmax cross-entropy with label smoothing (Szegedy et al. 2016) over a row-major [n x c] logit matrix:
/// the target is (1 - ε) on the true class plus ε / c everywhere, so the model is not pushed to infinite
/// confidence on training identities (it helps ReID generalise to unseen ones). Mean over the batch.
/// </summary>
public static class CrossEntropyLoss
{
    /// <param name="gradLogits">receives dLoss/dlogits (same layout); may be empty when not needed.</param>
    /// <param name="correct">rows whose arg-max is the label (training accuracy).</param>
    public static double Forward(ReadOnlySpan<float> logits, int n, int c, ReadOnlySpan<int> labels, double smoothing,
        Span<float> gradLogits, out int correct)
    {
        LossChecks.Matrix(logits.Length, n, c, "logits");
        LossChecks.Labels(labels, n, c);
        var wantGrad = !gradLogits.IsEmpty;
        if (wantGrad && gradLogits.Length != n * c) throw new ArgumentException("gradient span has the wrong size", nameof(gradLogits));
        correct = 0;
        var total = 0.0;
        var off = smoothing / c;
        var on = 1 - smoothing + off;
        for (var i = 0; i < n; i++)
        {
            var row = logits.Slice(i * c, c);
            var max = row[0];
            var arg = 0;
            for (var j = 1; j < c; j++) if (row[j] > max) { max = row[j]; arg = j; }
            if (arg == labels[i]) correct++;
            var sum = 0.0;
            for (var j = 0; j < c; j++) sum += Math.Exp(row[j] - max);
            var logZ = max + Math.Log(sum);
            // loss_i = -Σ_j q_j log p_j = logZ - Σ_j q_j z_j (the q_j add up to 1)
            var dot = 0.0;
            for (var j = 0; j < c; j++) dot += (j == labels[i] ? on : off) * row[j];
            total += logZ - dot;
            if (wantGrad)
            {
                var g = gradLogits.Slice(i * c, c);
                for (var j = 0; j < c; j++)
                    g[j] = (float)((Math.Exp(row[j] - logZ) - (j == labels[i] ? on : off)) / n);
            }
        }
        return total / n;
    }
}

internal static class LossChecks
{
    public static void Matrix(int length, int rows, int cols, string what)
    {
        if (rows <= 0 || cols <= 0 || length != rows * cols)
            throw new ArgumentException($"{what}: {length} values do not form a {rows} x {cols} matrix");
    }

    public static void Labels(ReadOnlySpan<int> labels, int n, int classes)
    {
        if (labels.Length != n) throw new ArgumentException($"{labels.Length} labels for {n} rows");
        foreach (var y in labels)
            if ((uint)y >= (uint)classes) throw new ArgumentException($"label {y} outside [0, {classes})");
    }
}
