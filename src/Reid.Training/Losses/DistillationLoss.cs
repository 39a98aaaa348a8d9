namespace Reid.Training.Losses;

/// <summary>
/// Distillation from a frozen teacher's embeddings of the same batch (learning without forgetting, Li and Hoiem
/// 2017). Feature: L = 1/n Σ_i (1 − cos(s_i, t_i)), which keeps each image where the teacher put it (student and
/// teacher must have the same width, as a fine-tuned model and its own starting point do). Similarity:
/// L = 1/(n(n−1)) Σ_{i≠j} (cos(s_i, s_j) − cos(t_i, t_j))², which keeps only who is near whom (Tung and Mori 2019,
/// on cosines). Both work on directions, as the embeddings are compared by cosine.
/// </summary>
public static class DistillationLoss
{
    // A feature shorter than this has no direction to speak of; its gradient is left at zero.
    private const double MinNorm = 1e-12;

    public static double Feature(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int n, int d, Span<float> grad)
    {
        LossChecks.Matrix(student.Length, n, d, "student features");
        LossChecks.Matrix(teacher.Length, n, d, "teacher features (same width as the student's)");
        var wantGrad = CheckGrad(grad, n * d);
        var total = 0.0;
        for (var i = 0; i < n; i++)
        {
            var s = student.Slice(i * d, d);
            var t = teacher.Slice(i * d, d);
            double ss = 0, tt = 0, st = 0;
            for (var k = 0; k < d; k++) { ss += (double)s[k] * s[k]; tt += (double)t[k] * t[k]; st += (double)s[k] * t[k]; }
            var sn = Math.Sqrt(ss);
            var tn = Math.Sqrt(tt);
            if (sn < MinNorm || tn < MinNorm) { total += 1; continue; }
            var cos = st / (sn * tn);
            total += 1 - cos;
            if (!wantGrad) continue;
            // d(−cos)/ds = −(t̂ − cos·ŝ) / |s|, averaged over the batch
            var g = grad.Slice(i * d, d);
            for (var k = 0; k < d; k++)
                g[k] = (float)(-(t[k] / tn - cos * s[k] / sn) / sn / n);
        }
        return total / n;
    }

    public static double Similarity(ReadOnlySpan<float> student, int ds, ReadOnlySpan<float> teacher, int dt, int n, Span<float> grad)
    {
        LossChecks.Matrix(student.Length, n, ds, "student features");
        LossChecks.Matrix(teacher.Length, n, dt, "teacher features");
        var wantGrad = CheckGrad(grad, n * ds);
        if (n < 2) return 0;
        var (sHat, sNorm) = Normalise(student, n, ds);
        var (tHat, _) = Normalise(teacher, n, dt);
        var pairs = (double)n * (n - 1);
        var total = 0.0;
        // dL/dŝ_i = Σ_{j≠i} 4 (S_ij − T_ij) ŝ_j / (n(n−1)) (each unordered pair appears twice in the sum)
        var gHat = new double[n * ds];
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++)
            {
                var diff = Dot(sHat, i, j, ds) - Dot(tHat, i, j, dt);
                total += 2 * diff * diff;
                if (!wantGrad) continue;
                var c = 4 * diff / pairs;
                for (var k = 0; k < ds; k++)
                {
                    gHat[i * ds + k] += c * sHat[j * ds + k];
                    gHat[j * ds + k] += c * sHat[i * ds + k];
                }
            }
        if (wantGrad)
            for (var i = 0; i < n; i++)
            {
                if (sNorm[i] < MinNorm) { grad.Slice(i * ds, ds).Clear(); continue; }
                // through ŝ = s/|s|: (g − (g·ŝ)ŝ) / |s|
                double dot = 0;
                for (var k = 0; k < ds; k++) dot += gHat[i * ds + k] * sHat[i * ds + k];
                for (var k = 0; k < ds; k++)
                    grad[i * ds + k] = (float)((gHat[i * ds + k] - dot * sHat[i * ds + k]) / sNorm[i]);
            }
        return total / pairs;
    }

    private static bool CheckGrad(Span<float> grad, int length)
    {
        if (grad.IsEmpty) return false;
        if (grad.Length != length) throw new ArgumentException("gradient span has the wrong size", nameof(grad));
        grad.Clear();
        return true;
    }

    private static (double[] Unit, double[] Norm) Normalise(ReadOnlySpan<float> x, int n, int d)
    {
        var unit = new double[n * d];
        var norm = new double[n];
        for (var i = 0; i < n; i++)
        {
            double ss = 0;
            for (var k = 0; k < d; k++) ss += (double)x[i * d + k] * x[i * d + k];
            norm[i] = Math.Sqrt(ss);
            if (norm[i] < MinNorm) continue;
            for (var k = 0; k < d; k++) unit[i * d + k] = x[i * d + k] / norm[i];
        }
        return (unit, norm);
    }

    private static double Dot(double[] x, int i, int j, int d)
    {
        double s = 0;
        for (var k = 0; k < d; k++) s += x[i * d + k] * x[j * d + k];
        return s;
    }
}
