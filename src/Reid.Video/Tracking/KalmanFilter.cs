using Reid.Imaging;

namespace Reid.Video.Tracking;

/// <summary>
/// Constant-velocity Kalman filter on (cx, cy, aspect = w/h, h) and their velocities, as in SORT/DeepSORT.
/// Noise scales with the box height so that near and far people are treated alike; the aspect ratio gets a
/// small fixed noise because people keep their shape.
/// </summary>
public sealed class KalmanFilter
{
    public const int StateSize = 8, MeasurementSize = 4;

    /// <summary>The 0.95 quantile of the chi-square distribution with 4 degrees of freedom: the usual gate.</summary>
    public const double Chi2Gate95 = 9.4877;

    private readonly double _stdPosition, _stdVelocity;

    /// <param name="stdWeightPosition">position noise as a fraction of the box height per frame.</param>
    /// <param name="stdWeightVelocity">velocity noise as a fraction of the box height per frame.</param>
    public KalmanFilter(double stdWeightPosition = 1.0 / 20, double stdWeightVelocity = 1.0 / 160)
    {
        _stdPosition = stdWeightPosition;
        _stdVelocity = stdWeightVelocity;
    }

    public static double[] ToMeasurement(in BoundingBox box) =>
        [box.CenterX, box.CenterY, box.Width / Math.Max(box.Height, 1e-6), box.Height];

    public static BoundingBox ToBox(ReadOnlySpan<double> state)
    {
        double h = state[3], w = state[2] * h;
        return BoundingBox.FromCenter((float)state[0], (float)state[1], (float)w, (float)h);
    }

    public KalmanState Initiate(in BoundingBox box)
    {
        var z = ToMeasurement(box);
        var mean = new double[StateSize];
        z.CopyTo(mean, 0);
        double h = z[3];
        double[] std =
        [
            2 * _stdPosition * h, 2 * _stdPosition * h, 1e-2, 2 * _stdPosition * h,
            10 * _stdVelocity * h, 10 * _stdVelocity * h, 1e-5, 10 * _stdVelocity * h,
        ];
        var cov = new double[StateSize, StateSize];
        for (int i = 0; i < StateSize; i++) cov[i, i] = std[i] * std[i];
        return new KalmanState(mean, cov);
    }

    /// <summary>Advances the state by one frame.</summary>
    public void Predict(KalmanState s)
    {
        double h = s.Mean[3];
        double[] std =
        [
            _stdPosition * h, _stdPosition * h, 1e-2, _stdPosition * h,
            _stdVelocity * h, _stdVelocity * h, 1e-5, _stdVelocity * h,
        ];
        for (int i = 0; i < 4; i++) s.Mean[i] += s.Mean[i + 4];
        // P = F P F^T + Q with F = [[I, I], [0, I]], written out block-wise.
        var p = s.Covariance;
        var n = new double[StateSize, StateSize];
        for (int i = 0; i < StateSize; i++)
        for (int j = 0; j < StateSize; j++)
        {
            double v = p[i, j];
            if (i < 4) v += p[i + 4, j];
            if (j < 4) v += p[i, j + 4];
            if (i < 4 && j < 4) v += p[i + 4, j + 4];
            n[i, j] = v;
        }
        for (int i = 0; i < StateSize; i++) n[i, i] += std[i] * std[i];
        s.Covariance = n;
        if (s.Mean[3] < 1) s.Mean[3] = 1; // a box cannot shrink to nothing while coasting
    }

    /// <summary>The state's distribution in measurement space: mean H x and covariance H P H^T + R.</summary>
    public (double[] Mean, double[,] Covariance) Project(KalmanState s)
    {
        double h = s.Mean[3];
        double[] std = [_stdPosition * h, _stdPosition * h, 1e-1, _stdPosition * h];
        var mean = s.Mean[..4];
        var cov = new double[4, 4];
        for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            cov[i, j] = s.Covariance[i, j];
        for (int i = 0; i < 4; i++) cov[i, i] += std[i] * std[i];
        return (mean, cov);
    }

    /// <summary>Corrects the state with a measured box.</summary>
    public void Update(KalmanState s, in BoundingBox box)
    {
        var z = ToMeasurement(box);
        var (pm, pc) = Project(s);
        var chol = Cholesky(pc);
        // K^T = S^-1 (H P)^T, where (H P) is the first 4 rows of P.
        var kt = new double[4, StateSize];
        var col = new double[4];
        for (int j = 0; j < StateSize; j++)
        {
            for (int i = 0; i < 4; i++) col[i] = s.Covariance[i, j];
            var x = CholeskySolve(chol, col);
            for (int i = 0; i < 4; i++) kt[i, j] = x[i];
        }
        var innovation = new double[4];
        for (int i = 0; i < 4; i++) innovation[i] = z[i] - pm[i];
        for (int j = 0; j < StateSize; j++)
            for (int i = 0; i < 4; i++) s.Mean[j] += kt[i, j] * innovation[i];
        // P -= K S K^T = K (H P), and H P = S K^T.
        var n = (double[,])s.Covariance.Clone();
        for (int a = 0; a < StateSize; a++)
        for (int b = 0; b < StateSize; b++)
        {
            double v = 0;
            for (int i = 0; i < 4; i++) v += kt[i, a] * s.Covariance[i, b];
            n[a, b] -= v;
        }
        s.Covariance = n;
    }

    /// <summary>Squared Mahalanobis distance between the state's projection and a measured box.</summary>
    public double GatingDistance(KalmanState s, in BoundingBox box)
    {
        var z = ToMeasurement(box);
        var (pm, pc) = Project(s);
        var chol = Cholesky(pc);
        var d = new double[4];
        for (int i = 0; i < 4; i++) d[i] = z[i] - pm[i];
        var y = ForwardSubstitute(chol, d);
        double sum = 0;
        foreach (var v in y) sum += v * v;
        return sum;
    }

    private static double[,] Cholesky(double[,] a)
    {
        int n = a.GetLength(0);
        var l = new double[n, n];
        for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++)
        {
            double sum = a[i, j];
            for (int k = 0; k < j; k++) sum -= l[i, k] * l[j, k];
            if (i == j) l[i, i] = Math.Sqrt(Math.Max(sum, 1e-12));
            else l[i, j] = sum / l[j, j];
        }
        return l;
    }

    private static double[] ForwardSubstitute(double[,] l, double[] b)
    {
        int n = b.Length;
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            double sum = b[i];
            for (int k = 0; k < i; k++) sum -= l[i, k] * y[k];
            y[i] = sum / l[i, i];
        }
        return y;
    }

    private static double[] CholeskySolve(double[,] l, double[] b)
    {
        var y = ForwardSubstitute(l, b);
        int n = y.Length;
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double sum = y[i];
            for (int k = i + 1; k < n; k++) sum -= l[k, i] * x[k];
            x[i] = sum / l[i, i];
        }
        return x;
    }
}

/// <summary>A track's Kalman state: mean (8) and covariance (8x8).</summary>
public sealed class KalmanState(double[] mean, double[,] covariance)
{
    public double[] Mean { get; } = mean;
    public double[,] Covariance { get; internal set; } = covariance;
    public BoundingBox Box => KalmanFilter.ToBox(Mean);
}
