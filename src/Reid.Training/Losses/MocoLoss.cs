namespace Reid.Training.Losses;

/// <summary>
/// MoCo's InfoNCE (He et al. 2020; v2: Chen et al. 2020): each query q_i (a view of crop i, L2-normalised here)
/// against its key k_i (another view of the same crop, from the momentum encoder, already unit) and every key of
/// the queue (views of other crops), L = −1/n Σ_i log( exp(q_i·k_i/τ) / (exp(q_i·k_i/τ) + Σ_j exp(q_i·Q_j/τ)) ).
/// Keys and queue are constants; the gradient goes to the queries only.
/// </summary>
public static class MocoLoss
{

    /// <returns>the loss; <paramref name="correct"/> counts queries whose own key beats every queued one.</returns>
    public static double Forward(ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, int n, int d, ReadOnlySpan<float> queue, int queued,
        double temperature, Span<float> grad, out int correct)
    {
        LossChecks.Matrix(queries.Length, n, d, "queries");
        LossChecks.Matrix(keys.Length, n, d, "keys");
        if (queue.Length < queued * d) throw new ArgumentException($"the queue holds {queue.Length / d} keys, not {queued}");
        if (temperature <= 0) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be above 0");
        var wantGrad = !grad.IsEmpty;
        if (wantGrad && grad.Length != n * d) throw new ArgumentException("gradient span has the wrong size", nameof(grad));
        correct = 0;
        var total = 0.0;
        var logits = new double[queued + 1];
        var unit = new double[d];
        var g = new double[d];
        for (var i = 0; i < n; i++)
        {
            var norm = UnitRows.Normalise(queries.Slice(i * d, d), unit);
            // logit 0: the positive key; 1..queued: the queue
            logits[0] = Dot(unit, keys.Slice(i * d, d)) / temperature;
            var max = logits[0];
            var best = true;
            for (var j = 0; j < queued; j++)
            {
                logits[j + 1] = Dot(unit, queue.Slice(j * d, d)) / temperature;
                if (logits[j + 1] >= logits[0]) best = false;
                max = Math.Max(max, logits[j + 1]);
            }
            if (best) correct++;
            double z = 0;
            for (var j = 0; j <= queued; j++) { logits[j] = Math.Exp(logits[j] - max); z += logits[j]; }
            total += -Math.Log(Math.Max(logits[0] / z, 1e-300));
            if (!wantGrad) continue;
            // dL/dq̂ = (Σ_j p_j v_j − v_pos) / τ / n over v = (k_i, queue...), then through q̂ = q/|q|
            Array.Clear(g);
            var coef0 = (logits[0] / z - 1) / temperature / n;
            var kv = keys.Slice(i * d, d);
            for (var k = 0; k < d; k++) g[k] += coef0 * kv[k];
            for (var j = 0; j < queued; j++)
            {
                var c = logits[j + 1] / z / temperature / n;
                if (c < 1e-12) continue;
                var qv = queue.Slice(j * d, d);
                for (var k = 0; k < d; k++) g[k] += c * qv[k];
            }
            UnitRows.Backward(g, unit, norm, grad.Slice(i * d, d));
        }
        return total / n;
    }

    private static double Dot(double[] a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (var k = 0; k < a.Length; k++) s += a[k] * b[k];
        return s;
    }
}
