namespace Reid.Gallery.Video;

/// <summary>One track as scored: its camera, the true person, the global identity it was given and how many sightings (crops) it holds.</summary>
public sealed record ScoredTrack(string Camera, int Person, long Identity, int Sightings);

/// <summary>
/// Cross-camera identity accuracy of a set of tracks (<see cref="ReplayScoring.Score"/>).
/// Links: over pairs of tracks on different cameras, "linked" = same global identity, "true" = same person;
/// precision = correct / linked (1 when nothing is linked: no wrong link), recall = correct / true (1 when no true pair).
/// IDF1 over sightings: global identities matched one-to-one to people maximising shared sightings (IDTP);
/// IDF1 = 2·IDTP / (2·IDTP + IDFP + IDFN). Split: people spread over more than one identity; merged: identities
/// holding more than one person.
/// </summary>
public sealed record ReplayScore(
    int Tracks, long Sightings, int People, int Identities,
    long CrossCameraPairs, long TruePairs, long LinkedPairs, long CorrectLinks,
    double LinkPrecision, double LinkRecall, double LinkF1,
    long Idtp, long Idfp, long Idfn, double Idf1,
    int PeopleSplit, double IdentitiesPerPerson, int IdentitiesMerged);

public static class ReplayScoring
{
    public static ReplayScore Score(IReadOnlyList<ScoredTrack> tracks)
    {
        if (tracks.Any(t => t.Sightings < 0)) throw new ArgumentException("a track cannot hold a negative number of sightings", nameof(tracks));
        var all = CrossCameraPairs(tracks);
        var truePairs = tracks.GroupBy(t => t.Person).Sum(g => CrossCameraPairs(g.ToList()));
        var linked = tracks.GroupBy(t => t.Identity).Sum(g => CrossCameraPairs(g.ToList()));
        var correct = tracks.GroupBy(t => (t.Identity, t.Person)).Sum(g => CrossCameraPairs(g.ToList()));
        double precision = linked == 0 ? 1 : (double)correct / linked;
        double recall = truePairs == 0 ? 1 : (double)correct / truePairs;
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);

        var people = tracks.Select(t => t.Person).Distinct().Order().ToArray();
        var identities = tracks.Select(t => t.Identity).Distinct().Order().ToArray();
        var pIndex = people.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => x.i);
        var gIndex = identities.Select((g, i) => (g, i)).ToDictionary(x => x.g, x => x.i);
        var shared = new long[people.Length, identities.Length];
        foreach (var t in tracks) shared[pIndex[t.Person], gIndex[t.Identity]] += t.Sightings;
        long total = tracks.Sum(t => (long)t.Sightings);
        long idtp = MaxWeightMatching(shared);
        long idfp = total - idtp, idfn = total - idtp;   // every sighting has both a global and a true identity
        double idf1 = total == 0 ? 1 : 2.0 * idtp / (2.0 * idtp + idfp + idfn);

        var idsPerPerson = tracks.GroupBy(t => t.Person).Select(g => g.Select(t => t.Identity).Distinct().Count()).ToList();
        var merged = tracks.GroupBy(t => t.Identity).Count(g => g.Select(t => t.Person).Distinct().Count() > 1);
        return new ReplayScore(tracks.Count, total, people.Length, identities.Length, all, truePairs, linked, correct,
            precision, recall, f1, idtp, idfp, idfn, idf1,
            idsPerPerson.Count(n => n > 1), idsPerPerson.Count == 0 ? 0 : idsPerPerson.Average(), merged);
    }

    /// <summary>Pairs of tracks on different cameras: C(n, 2) minus the same-camera pairs.</summary>
    private static long CrossCameraPairs(IReadOnlyList<ScoredTrack> tracks)
    {
        long n = tracks.Count, same = 0;
        foreach (var g in tracks.GroupBy(t => t.Camera, StringComparer.Ordinal)) same += (long)g.Count() * (g.Count() - 1) / 2;
        return n * (n - 1) / 2 - same;
    }

    /// <summary>
    /// The largest total weight of a one-to-one matching of rows to columns (weights ≥ 0; unmatched rows or columns add
    /// nothing): the tracker's Hungarian solver on the negated weights (exact: crop counts are far below 2^53).
    /// </summary>
    public static long MaxWeightMatching(long[,] weights)
    {
        int rows = weights.GetLength(0), cols = weights.GetLength(1);
        var cost = new double[rows, cols];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            cost[i, j] = -weights[i, j];
        long total = 0;
        foreach (var (r, c) in Reid.Video.Tracking.LinearAssignment.Solve(cost, maxCost: 0).Matches) total += weights[r, c];
        return total;
    }
}
