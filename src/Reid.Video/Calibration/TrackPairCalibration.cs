using Reid.Core;
using Reid.Evaluation;

namespace Reid.Video.Calibration;

/// <summary>One tracked person of a calibration video: its frame span and its crops' embeddings in time order.</summary>
public sealed record CalibrationTrack(int Id, long FirstFrame, long LastFrame, IReadOnlyList<(double Time, float[] Embedding)> Crops);

public sealed record TrackCalibrationOptions
{
    /// <summary>The false-accept rate the threshold is chosen at.</summary>
    public double TargetFar { get; init; } = 1e-3;

    /// <summary>Consecutive crops averaged into one probe, as identify and verify average a probe's images.</summary>
    public int ProbeCrops { get; init; } = 4;

    /// <summary>A genuine probe starts at least this long after the last crop of the part of its track taken as enrolled.</summary>
    public double MinGenuineGapSeconds { get; init; } = 2;

    /// <summary>Confidence of the reported upper bound on the false-accept rate.</summary>
    public double Confidence { get; init; } = 0.95;
}

/// <summary>The threshold a video gives, with the evidence behind it.</summary>
/// <param name="FarUpperBound">one-sided Clopper–Pearson bound on the FAR at the threshold, treating comparisons as
/// independent (they are not quite: comparisons of one pair of people are alike, so <paramref name="PeoplePairs"/>
/// is the more honest sample size)</param>
public sealed record TrackCalibrationResult(
    VerificationResult Scores, OperatingPoint Point, double FarUpperBound, int Tracks, int PeoplePairs, int TracksWithGenuine);

/// <summary>
/// Chooses a decision threshold from unlabelled video: two people tracked in one video at the same moment are certainly
/// different (impostor comparisons), and a track's later crops are the same person as its earlier ones (genuine
/// comparisons). Comparisons are scored as the gallery scores them — a probe is the normalised mean of a few
/// consecutive crops, and an "enrolled" track scores its best crop — so the threshold holds for identify and verify
/// rather than for single image pairs, which are less alike than a best-of-many match.
/// </summary>
public static class TrackPairCalibration
{
    public static TrackCalibrationResult Calibrate(IReadOnlyList<IReadOnlyList<CalibrationTrack>> videos, TrackCalibrationOptions options)
    {
        if (options.TargetFar is <= 0 or >= 1) throw new ReidException($"--far must lie between 0 and 1 (got {options.TargetFar})");
        if (options.ProbeCrops < 1) throw new ReidException("probe crops must be at least 1");
        var impostor = new List<float>();
        var genuine = new List<float>();
        int tracks = 0, pairs = 0, withGenuine = 0;
        foreach (var video in videos)
        {
            var usable = video.Where(t => t.Crops.Count > 0).ToList();
            tracks += usable.Count;
            for (var a = 0; a < usable.Count; a++)
            for (var b = a + 1; b < usable.Count; b++)
            {
                var (ta, tb) = (usable[a], usable[b]);
                if (ta.FirstFrame > tb.LastFrame || tb.FirstFrame > ta.LastFrame) continue;   // never seen together
                pairs++;
                foreach (var probe in Probes(tb.Crops, options.ProbeCrops)) impostor.Add(Best(ta.Crops, probe));
                foreach (var probe in Probes(ta.Crops, options.ProbeCrops)) impostor.Add(Best(tb.Crops, probe));
            }
            foreach (var t in usable)
            {
                var half = t.Crops.Count / 2;
                if (half == 0) continue;
                var enrolled = t.Crops.Take(half).ToList();
                var later = t.Crops.Skip(half).Where(c => c.Time >= enrolled[^1].Time + options.MinGenuineGapSeconds).ToList();
                var probes = Probes(later, options.ProbeCrops).ToList();
                if (probes.Count == 0) continue;
                withGenuine++;
                foreach (var probe in probes) genuine.Add(Best(enrolled, probe));
            }
        }
        var needed = (int)Math.Ceiling(-Math.Log(1 - options.Confidence) / options.TargetFar);
        if (impostor.Count < needed)
            throw new ReidException(
                $"the video gives {impostor.Count:N0} comparisons of different people ({pairs} pair(s) of people seen at the same time among {tracks} tracks); " +
                $"showing a false-accept rate of {options.TargetFar:0.#####} with {options.Confidence * 100:0}% confidence needs at least {needed:N0}: " +
                "use a longer or busier video (people visible together), several videos, or a higher false-accept rate (--far)");
        var scores = Verification.FromScores(genuine, impostor);
        var point = scores.AtFar(options.TargetFar);
        var exceed = (long)Math.Round(point.Far * impostor.Count);
        return new TrackCalibrationResult(scores, point, ClopperPearsonUpper(exceed, impostor.Count, options.Confidence), tracks, pairs, withGenuine);
    }

    /// <summary>A video's tracks as calibration input: each track's sampled crops embedded with the model being calibrated.</summary>
    public static IReadOnlyList<CalibrationTrack> FromTracks(IReadOnlyList<PersonTrack> tracks, Func<IReadOnlyList<Imaging.RgbImage>, float[][]> embed) =>
        tracks.Select(t =>
        {
            var crops = t.Crops.OrderBy(c => c.Observation.Frame).ToList();
            var vectors = crops.Count == 0 ? [] : embed(crops.Select(c => c.Image).ToList());
            return new CalibrationTrack(t.Id, t.FirstFrame, t.LastFrame,
                crops.Select((c, i) => (c.Observation.Timestamp, vectors[i])).ToList());
        }).ToList();

    /// <summary>Normalised means of consecutive runs of <paramref name="size"/> crops (a shorter last run is kept).</summary>
    private static IEnumerable<float[]> Probes(IReadOnlyList<(double Time, float[] Embedding)> crops, int size)
    {
        for (var i = 0; i < crops.Count; i += size)
        {
            var mean = new float[crops[i].Embedding.Length];
            for (var j = i; j < Math.Min(crops.Count, i + size); j++)
                System.Numerics.Tensors.TensorPrimitives.Add(mean, crops[j].Embedding, mean);
            var norm = System.Numerics.Tensors.TensorPrimitives.Norm(mean);
            if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Divide(mean, norm, mean);
            yield return mean;
        }
    }

    private static float Best(IReadOnlyList<(double Time, float[] Embedding)> enrolled, float[] probe) =>
        enrolled.Max(c => System.Numerics.Tensors.TensorPrimitives.Dot(c.Embedding, probe));

    /// <summary>The p at which seeing at most <paramref name="k"/> of <paramref name="n"/> has probability 1 − confidence.</summary>
    public static double ClopperPearsonUpper(long k, long n, double confidence)
    {
        if (n <= 0) return 1;
        if (k >= n) return 1;
        double lo = k / (double)n, hi = 1;
        for (var i = 0; i < 80; i++)
        {
            var mid = (lo + hi) / 2;
            if (BinomialCdf(k, n, mid) > 1 - confidence) lo = mid; else hi = mid;
        }
        return hi;
    }

    private static double BinomialCdf(long k, long n, double p)
    {
        if (p <= 0) return 1;
        if (p >= 1) return k >= n ? 1 : 0;
        // sum of P(X = i) for i ≤ k, in log space (n may be large, k small)
        double logTerm = n * Math.Log(1 - p), sum = Math.Exp(logTerm);
        for (long i = 1; i <= k; i++)
        {
            logTerm += Math.Log((double)(n - i + 1) / i) + Math.Log(p / (1 - p));
            sum += Math.Exp(logTerm);
        }
        return Math.Min(1, sum);
    }
}
