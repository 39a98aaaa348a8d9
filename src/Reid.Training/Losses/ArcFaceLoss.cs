namespace Reid.Training.Losses;

/// <summary>
/// ArcFace (Deng et al. 2019): logits s·cos(θ_y + m) for the true class and s·cos θ_j for the others, where
/// θ_j is the angle between the L2-normalised feature and the L2-normalised class weight j; then plain
/// softmax cross-entropy. Gradients flow to both the features and the (unnormalised) class weights.
/// Past θ + m = π the additive-angle logit stops being monotonic, so there it falls back to the linear
/// cos θ - m·sin m (the usual guard from the authors' code).
/// </summary>
public static class ArcFaceLoss
{
    public static double Forward(ReadOnlySpan<float> features, int n, int d, ReadOnlySpan<float> weights, int classes,
        ReadOnlySpan<int> labels, double margin, double scale, Span<float> gradFeatures, Span<float> gradWeights, out int correct)
    {
        LossChecks.Matrix(features.Length, n, d, "features");
        LossChecks.Matrix(weights.Length, classes, d, "class weights");
        LossChecks.Labels(labels, n, classes);
        var wantGrad = !gradFeatures.IsEmpty || !gradWeights.IsEmpty;
        if (wantGrad && (gradFeatures.Length != n * d || gradWeights.Length != classes * d))
            throw new ArgumentException("gradient spans have the wrong size");

        var xn = Normalise(features, n, d, out var xNorm);
        var wn = Normalise(weights, classes, d, out var wNorm);
        var cosM = Math.Cos(margin);
        var sinM = Math.Sin(margin);
        var threshold = Math.Cos(Math.PI - margin);

        var cos = new double[n * classes];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < classes; j++)
            {
                var s = 0.0;
                for (var k = 0; k < d; k++) s += xn[i * d + k] * wn[j * d + k];
                cos[i * classes + j] = s;
            }

        // dLoss/dcos for every (row, class); the logits are built from cos then discarded
        var gCos = new double[n * classes];
        var logits = new double[classes];
        var total = 0.0;
        correct = 0;
        for (var i = 0; i < n; i++)
        {
            var y = labels[i];
            var ct = Math.Clamp(cos[i * classes + y], -1, 1);
            var st = Math.Sqrt(Math.Max(0, 1 - ct * ct));
            double target, dTarget;
            if (ct > threshold)
            {
                target = ct * cosM - st * sinM;
                dTarget = cosM + (st > 1e-9 ? sinM * ct / st : 0);
            }
            else
            {
                target = ct - margin * sinM;
                dTarget = 1;
            }
            var max = double.NegativeInfinity;
            for (var j = 0; j < classes; j++)
            {
                logits[j] = scale * (j == y ? target : cos[i * classes + j]);
                if (logits[j] > max) max = logits[j];
            }
            // accuracy on the plain cosines (what retrieval sees), not the margin-penalised logits
            var arg = 0;
            for (var j = 1; j < classes; j++) if (cos[i * classes + j] > cos[i * classes + arg]) arg = j;
            if (arg == y) correct++;
            var sum = 0.0;
            for (var j = 0; j < classes; j++) sum += Math.Exp(logits[j] - max);
            var logZ = max + Math.Log(sum);
            total += logZ - logits[y];
            for (var j = 0; j < classes; j++)
            {
                var gz = (Math.Exp(logits[j] - logZ) - (j == y ? 1 : 0)) / n;
                gCos[i * classes + j] = gz * scale * (j == y ? dTarget : 1);
            }
        }
        if (!wantGrad) return total / n;

        // cos_ij = x̂_i · ŵ_j; then back through the normalisations: dL/dx = (g - x̂ (x̂·g)) / ||x||
        var gxn = new double[n * d];
        var gwn = new double[classes * d];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < classes; j++)
            {
                var g = gCos[i * classes + j];
                if (g == 0) continue;
                for (var k = 0; k < d; k++)
                {
                    gxn[i * d + k] += g * wn[j * d + k];
                    gwn[j * d + k] += g * xn[i * d + k];
                }
            }
        NormaliseBackward(xn, gxn, xNorm, n, d, gradFeatures);
        NormaliseBackward(wn, gwn, wNorm, classes, d, gradWeights);
        return total / n;
    }

    private static double[] Normalise(ReadOnlySpan<float> m, int rows, int d, out double[] norms)
    {
        var r = new double[rows * d];
        norms = new double[rows];
        for (var i = 0; i < rows; i++)
        {
            var s = 0.0;
            for (var k = 0; k < d; k++) s += (double)m[i * d + k] * m[i * d + k];
            norms[i] = Math.Max(Math.Sqrt(s), 1e-12);
            for (var k = 0; k < d; k++) r[i * d + k] = m[i * d + k] / norms[i];
        }
        return r;
    }

    private static void NormaliseBackward(double[] unit, double[] gUnit, double[] norms, int rows, int d, Span<float> grad)
    {
        for (var i = 0; i < rows; i++)
        {
            var dot = 0.0;
            for (var k = 0; k < d; k++) dot += unit[i * d + k] * gUnit[i * d + k];
            for (var k = 0; k < d; k++) grad[i * d + k] = (float)((gUnit[i * d + k] - unit[i * d + k] * dot) / norms[i]);
        }
    }
}
