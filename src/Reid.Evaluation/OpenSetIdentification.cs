using Reid.Data;

namespace Reid.Evaluation;

/// <summary>
/// Open-set identification at one threshold, in ISO/IEC 19795-1 terms: of the probes of people who are not enrolled,
/// the share whose best identity score reaches the threshold (false-positive identification rate, FPIR); of the
/// probes of enrolled people, the share whose best identity is their own and reaches it (detection and
/// identification rate at rank 1, DIR).
/// </summary>
public readonly record struct OpenSetPoint(double Threshold, double Fpir, double Dir, long FalsePositives, long Detected);

/// <summary>
/// What a gallery answers for probes of enrolled and of never-enrolled people: each probe's best identity score
/// (an identity scores its best image, as <c>GalleryService.Identify</c> ranks them) and whether that identity is the
/// probe's own. Scores are similarities, higher is more alike; a probe is accepted when its score reaches the threshold.
/// </summary>
public sealed class OpenSetResult
{
    private readonly float[] _nonMatedDescending;
    private readonly (float Score, bool Correct)[] _mated;

    public int EnrolledIdentities { get; }
    public int MatedProbes => _mated.Length;
    public int NonMatedProbes => _nonMatedDescending.Length;

    public OpenSetResult(int enrolledIdentities, IEnumerable<float> nonMatedTopScores, IEnumerable<(float Score, bool Correct)> matedTop)
    {
        EnrolledIdentities = enrolledIdentities;
        _nonMatedDescending = nonMatedTopScores.OrderDescending().ToArray();
        _mated = matedTop.ToArray();
    }

    public OpenSetPoint At(double threshold)
    {
        var fp = _nonMatedDescending.LongCount(s => s >= threshold);
        var detected = _mated.LongCount(m => m.Correct && m.Score >= threshold);
        return new OpenSetPoint(threshold, NonMatedProbes == 0 ? double.NaN : fp / (double)NonMatedProbes,
            MatedProbes == 0 ? double.NaN : detected / (double)MatedProbes, fp, detected);
    }

    /// <summary>
    /// The lowest threshold whose FPIR does not exceed <paramref name="targetFpir"/> (just above the
    /// (k+1)-th highest non-mated score, k = ⌊target × non-mated probes⌋); null without non-mated probes.
    /// </summary>
    public OpenSetPoint? AtFpir(double targetFpir)
    {
        if (NonMatedProbes == 0) return null;
        var k = (int)Math.Floor(targetFpir * NonMatedProbes);
        if (k >= NonMatedProbes) return At(double.NegativeInfinity);
        return At(Math.BitIncrement((double)_nonMatedDescending[k]));
    }

    /// <summary>DIR against FPIR as the threshold falls through every non-mated score (for plots).</summary>
    public IReadOnlyList<OpenSetPoint> Curve()
    {
        var points = new List<OpenSetPoint>();
        foreach (var s in _nonMatedDescending.Distinct())
            points.Add(At(Math.BitIncrement((double)s)));
        if (NonMatedProbes > 0) points.Add(At(_nonMatedDescending[^1]));
        return points;
    }
}

public static class OpenSetIdentification
{
    /// <summary>
    /// Open-set identification on a labelled query/gallery split: a share of the gallery's identities is enrolled
    /// (chosen by a seeded shuffle), every query is a probe — mated when its person is enrolled, non-mated when not.
    /// Pairs the Market-1501 protocol ignores (same person in the same camera, junk) are not compared; a mated probe
    /// whose person has no other-camera image enrolled is skipped.
    /// </summary>
    public static OpenSetResult Compute(DistanceMatrix distances, IReadOnlyList<ImageRecord> query, IReadOnlyList<ImageRecord> gallery,
        double enrolFraction = 0.5, int seed = 0)
    {
        if (enrolFraction is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(enrolFraction), enrolFraction, "the enrolled share lies strictly between 0 and 1");
        var ids = gallery.Where(r => r.PersonId > 0).Select(r => r.PersonId).Distinct().Order().ToArray();
        new Random(seed).Shuffle(ids);
        var enrolled = ids.Take((int)Math.Round(enrolFraction * ids.Length)).ToHashSet();
        var nonMated = new List<float>();
        var mated = new List<(float, bool)>();
        for (var q = 0; q < query.Count; q++)
        {
            if (query[q].IsJunk) continue;
            var row = distances.Row(q);
            var bestScore = float.NegativeInfinity;
            var bestId = -1;
            var ownSeen = false;
            for (var j = 0; j < gallery.Count; j++)
            {
                if (!enrolled.Contains(gallery[j].PersonId)) continue;
                if (Market1501Protocol.Relate(query[q], gallery[j]) == PairRelation.Ignored) continue;
                ownSeen |= gallery[j].PersonId == query[q].PersonId;
                var s = distances.Score(row[j]);
                if (s > bestScore) (bestScore, bestId) = (s, gallery[j].PersonId);
            }
            if (bestId < 0) continue;
            if (!enrolled.Contains(query[q].PersonId)) nonMated.Add(bestScore);
            else if (ownSeen) mated.Add((bestScore, bestId == query[q].PersonId));
        }
        return new OpenSetResult(enrolled.Count, nonMated, mated);
    }
}
