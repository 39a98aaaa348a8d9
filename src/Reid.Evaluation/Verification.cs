using Reid.Data;

namespace Reid.Evaluation;

/// <summary>True-accept rate at a target false-accept rate, with the score threshold that achieves it (accept when score &gt; threshold).</summary>
public readonly record struct OperatingPoint(double TargetFar, double Far, double Tar, float Threshold);

/// <summary>ROC points, ordered by increasing false-accept rate.</summary>
public sealed record RocCurve(double[] Far, double[] Tar, float[] Threshold);

/// <summary>
/// Verification (1:1) figures over every query–gallery pair that the protocol does not ignore: same identity
/// (from another camera) is a genuine pair, anything else an impostor pair. Scores are similarities
/// (<see cref="DistanceMatrix.Score"/>), higher is more alike; both score lists are kept sorted descending.
/// </summary>
public sealed class VerificationResult
{
    public static readonly double[] StandardFars = [1e-2, 1e-3, 1e-4];

    public float[] Genuine { get; }
    public float[] Impostor { get; }
    public double Auc { get; }
    public IReadOnlyList<OperatingPoint> OperatingPoints { get; }
    public DistanceKind Kind { get; }

    internal VerificationResult(float[] genuineDescending, float[] impostorDescending, DistanceKind kind)
    {
        (Genuine, Impostor, Kind) = (genuineDescending, impostorDescending, kind);
        Auc = ComputeAuc(Genuine, Impostor);
        OperatingPoints = StandardFars.Select(AtFar).ToArray();
    }

    /// <summary>
    /// The best TAR whose FAR does not exceed <paramref name="targetFar"/>: the threshold is the (k+1)-th highest
    /// impostor score for k = ⌊target × impostors⌋, and only scores strictly above it are accepted.
    /// </summary>
    public OperatingPoint AtFar(double targetFar)
    {
        if (Impostor.Length == 0 || Genuine.Length == 0) return new OperatingPoint(targetFar, 0, 0, float.NaN);
        var k = (long)Math.Floor(targetFar * Impostor.Length);
        if (k >= Impostor.Length) return new OperatingPoint(targetFar, 1, 1, float.NegativeInfinity);
        var threshold = Impostor[k];
        var accepted = CountAbove(Impostor, threshold);
        return new OperatingPoint(targetFar, accepted / (double)Impostor.Length, CountAbove(Genuine, threshold) / (double)Genuine.Length, threshold);
    }

    /// <summary>The ROC at <paramref name="points"/> FARs spaced logarithmically from one impostor pair up to 1.</summary>
    public RocCurve Roc(int points = 200)
    {
        var far = new List<double>();
        var tar = new List<double>();
        var thr = new List<float>();
        if (Impostor.Length > 0 && Genuine.Length > 0)
        {
            var lo = Math.Log10(1.0 / Impostor.Length);
            for (var i = 0; i < points; i++)
            {
                var p = AtFar(Math.Pow(10, lo + (0 - lo) * i / (points - 1)));
                if (far.Count > 0 && p.Far == far[^1] && p.Tar == tar[^1]) continue;
                far.Add(p.Far); tar.Add(p.Tar); thr.Add(p.Threshold);
            }
        }
        return new RocCurve(far.ToArray(), tar.ToArray(), thr.ToArray());
    }

    /// <summary>Number of entries strictly greater than <paramref name="t"/> in a descending array.</summary>
    private static long CountAbove(float[] descending, float t)
    {
        int lo = 0, hi = descending.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (descending[mid] > t) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>P(genuine &gt; impostor) + ½ P(tie): the area under the ROC (Mann–Whitney), by merging the sorted lists.</summary>
    private static double ComputeAuc(float[] genuine, float[] impostor)
    {
        if (genuine.Length == 0 || impostor.Length == 0) return double.NaN;
        double wins = 0;
        int j = impostor.Length - 1; // walk both lists from the lowest score up
        long below = 0;
        for (var i = genuine.Length - 1; i >= 0; i--)
        {
            var g = genuine[i];
            while (j >= 0 && impostor[j] < g) { below++; j--; }
            var ties = 0L;
            for (var t = j; t >= 0 && impostor[t] == g; t--) ties++;
            wins += below + 0.5 * ties;
        }
        return wins / ((double)genuine.Length * impostor.Length);
    }
}

public static class Verification
{
    public static VerificationResult Compute(DistanceMatrix distances, IReadOnlyList<ImageRecord> query, IReadOnlyList<ImageRecord> gallery)
    {
        var genuine = new List<float>[query.Count];
        var impostor = new float[query.Count][];
        Parallel.For(0, query.Count, q =>
        {
            var g = new List<float>();
            var imp = new List<float>(gallery.Count);
            var row = distances.Row(q);
            for (var j = 0; j < gallery.Count; j++)
            {
                switch (Market1501Protocol.Relate(query[q], gallery[j]))
                {
                    case PairRelation.Positive: g.Add(distances.Score(row[j])); break;
                    case PairRelation.Negative: imp.Add(distances.Score(row[j])); break;
                }
            }
            genuine[q] = g;
            impostor[q] = imp.ToArray();
        });
        var gen = genuine.SelectMany(x => x).ToArray();
        var imps = new float[impostor.Sum(x => (long)x.Length)];
        var offset = 0;
        foreach (var part in impostor) { part.CopyTo(imps, offset); offset += part.Length; }
        SortDescending(gen);
        SortDescending(imps);
        return new VerificationResult(gen, imps, distances.Kind);
    }

    /// <summary>Verification figures from scores gathered elsewhere (e.g. pairs a video proves genuine or impostor); similarities.</summary>
    public static VerificationResult FromScores(IEnumerable<float> genuine, IEnumerable<float> impostor)
    {
        var gen = genuine.ToArray();
        var imps = impostor.ToArray();
        SortDescending(gen);
        SortDescending(imps);
        return new VerificationResult(gen, imps, DistanceKind.Cosine);
    }

    private static void SortDescending(float[] a)
    {
        Array.Sort(a);
        Array.Reverse(a);
    }
}
