namespace Reid.Training.Losses;

/// <summary>
/// The L2 normalisation contrastive losses put in front of their logits (MoCo's InfoNCE, Cluster Contrast): a row
/// made unit length, and a gradient taken back through it.
/// </summary>
internal static class UnitRows
{
    private const double MinNorm = 1e-12;

    /// <summary>Writes x/|x| into <paramref name="unit"/> and returns |x| (at least a tiny positive number).</summary>
    public static double Normalise(ReadOnlySpan<float> x, double[] unit)
    {
        double ss = 0;
        for (var k = 0; k < x.Length; k++) ss += (double)x[k] * x[k];
        var norm = Math.Max(Math.Sqrt(ss), MinNorm);
        for (var k = 0; k < x.Length; k++) unit[k] = x[k] / norm;
        return norm;
    }

    /// <summary>The gradient with respect to x of a loss whose gradient with respect to x/|x| is <paramref name="g"/>: (g − (g·u) u) / |x|.</summary>
    public static void Backward(double[] g, double[] unit, double norm, Span<float> grad)
    {
        double gu = 0;
        for (var k = 0; k < g.Length; k++) gu += g[k] * unit[k];
        for (var k = 0; k < g.Length; k++) grad[k] = (float)((g[k] - gu * unit[k]) / norm);
    }
}
