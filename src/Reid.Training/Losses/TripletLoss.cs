namespace Reid.Training.Losses;

/// <summary>What a batch-hard triplet pass measured, for the metrics log.</summary>
public readonly record struct TripletStats(double Loss, int Anchors, double MeanPositive, double MeanNegative, double ActiveFraction);

/// <summary>
/// Batch-hard triplet loss (Hermans et al. 2017) on Euclidean distances between the rows of an [n x d]
/// feature matrix: for each anchor the farthest image of its identity and the nearest of another,
/// hinge max(0, d_ap - d_an + margin) or the soft margin log(1 + exp(d_ap - d_an)). Anchors without a
/// positive or a negative in the batch are left out; the mean is over the rest.
/// </summary>
public static class TripletLoss
{
    // Distances below this are treated as the same point: √ has no gradient at 0 (an image drawn twice
    // for an identity with fewer than K images gives exactly that).
    private const double MinSquaredDistance = 1e-12;

    public static TripletStats BatchHard(ReadOnlySpan<float> features, int n, int d, ReadOnlySpan<int> labels,
        double margin, bool softMargin, Span<float> gradFeatures)
    {
        LossChecks.Matrix(features.Length, n, d, "features");
        if (labels.Length != n) throw new ArgumentException($"{labels.Length} labels for {n} rows");
        var wantGrad = !gradFeatures.IsEmpty;
        if (wantGrad)
        {
            if (gradFeatures.Length != n * d) throw new ArgumentException("gradient span has the wrong size", nameof(gradFeatures));
            gradFeatures.Clear();
        }

        var dist = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++)
            {
                var s = 0.0;
                for (var k = 0; k < d; k++) { var t = (double)features[i * d + k] - features[j * d + k]; s += t * t; }
                dist[i * n + j] = dist[j * n + i] = s;
            }

        var picks = new List<(int A, int P, int N, double Dap, double Dan)>(n);
        for (var a = 0; a < n; a++)
        {
            int p = -1, q = -1;
            double dap = double.NegativeInfinity, dan = double.PositiveInfinity;
            for (var j = 0; j < n; j++)
            {
                if (j == a) continue;
                var dd = dist[a * n + j];
                if (labels[j] == labels[a]) { if (dd > dap) { dap = dd; p = j; } }
                else if (dd < dan) { dan = dd; q = j; }
            }
            if (p >= 0 && q >= 0) picks.Add((a, p, q, dap, dan));
        }
        if (picks.Count == 0) return new TripletStats(0, 0, 0, 0, 0);

        double total = 0, sumP = 0, sumN = 0;
        var active = 0;
        foreach (var (a, p, q, sqAp, sqAn) in picks)
        {
            var dap = Math.Sqrt(Math.Max(sqAp, MinSquaredDistance));
            var dan = Math.Sqrt(Math.Max(sqAn, MinSquaredDistance));
            sumP += dap; sumN += dan;
            var z = dap - dan;
            double loss, slope;
            if (softMargin)
            {
                loss = z > 30 ? z : Math.Log(1 + Math.Exp(z));
                slope = 1 / (1 + Math.Exp(-z));
            }
            else
            {
                loss = Math.Max(0, z + margin);
                slope = z + margin > 0 ? 1 : 0;
            }
            total += loss;
            if (slope > 0) active++;
            if (!wantGrad || slope == 0) continue;
            var scale = slope / picks.Count;
            // d(d_ap)/dx_a = (x_a - x_p) / d_ap, d(d_ap)/dx_p = -(x_a - x_p) / d_ap; d_an enters with a minus sign
            AddPair(features, gradFeatures, d, a, p, sqAp > MinSquaredDistance ? scale / dap : 0);
            AddPair(features, gradFeatures, d, a, q, sqAn > MinSquaredDistance ? -scale / dan : 0);
        }
        return new TripletStats(total / picks.Count, picks.Count, sumP / picks.Count, sumN / picks.Count, (double)active / picks.Count);
    }

    private static void AddPair(ReadOnlySpan<float> x, Span<float> g, int d, int a, int b, double coef)
    {
        if (coef == 0) return;
        for (var k = 0; k < d; k++)
        {
            var diff = (double)x[a * d + k] - x[b * d + k];
            g[a * d + k] += (float)(coef * diff);
            g[b * d + k] -= (float)(coef * diff);
        }
    }
}
