using Reid.Core;
using Reid.Video.Tracking;

namespace Reid.Video.CrossCamera;

/// <summary>The tracks of one camera's video, with the video's start time (seconds since any fixed origin).</summary>
public sealed record CameraTracks(string Camera, double StartTime, IReadOnlyList<PersonTrack> Tracks);

/// <summary>A person already known (e.g. from the gallery): name and L2-normalised embedding.</summary>
public sealed record KnownIdentity(string Name, float[] Embedding);

/// <summary>One track seen as a sighting of a global identity, with absolute start/end times.</summary>
public sealed record TrackSighting(string Camera, int TrackId, double StartTime, double EndTime, PersonTrack Track);

/// <summary>
/// A person across cameras: <see cref="Name"/> of the matched known identity (null for someone new),
/// the sightings (tracks), the mean embedding of its tracks and the cosine distance to the known identity.
/// </summary>
public sealed record GlobalIdentity(int Id, string? Name, IReadOnlyList<TrackSighting> Sightings, float[] Embedding, double? KnownDistance)
{
    public bool IsNew => Name is null;
}

public sealed record CrossCameraConfig
{
    /// <summary>Tracks whose clusters are farther apart than this (average-linkage cosine distance) stay apart.</summary>
    public double MaxTrackDistance { get; init; } = 0.3;
    /// <summary>A cluster takes a known identity's name only within this cosine distance.</summary>
    public double MaxKnownDistance { get; init; } = 0.3;
}

/// <summary>
/// Assigns global identities to the tracks of several cameras by appearance: average-linkage agglomerative
/// clustering of the tracks' embeddings, never joining two tracks of one camera that overlap in time (one
/// person cannot be twice in a view), then a one-to-one assignment of clusters to known identities;
/// clusters left over are new people. <paramref name="canBeSame"/> lets a spatial-temporal model veto joins.
/// </summary>
public static class CrossCameraMatcher
{
    public static IReadOnlyList<GlobalIdentity> Associate(IReadOnlyList<CameraTracks> cameras, CrossCameraConfig? config = null,
        IReadOnlyList<KnownIdentity>? known = null, Func<TrackSighting, TrackSighting, bool>? canBeSame = null)
    {
        config ??= new CrossCameraConfig();
        var sightings = cameras.SelectMany(c => c.Tracks.Select(t =>
            new TrackSighting(c.Camera, t.Id, c.StartTime + t.StartTime, c.StartTime + t.EndTime, t))).ToList();
        int n = sightings.Count;
        if (known?.FirstOrDefault(k => sightings.Count > 0 && k.Embedding.Length != sightings[0].Track.Embedding.Length) is { } bad)
            throw new ReidException($"known identity '{bad.Name}' has a {bad.Embedding.Length}-d embedding, the tracks {sightings[0].Track.Embedding.Length}-d: use the same ReID model");

        var dist = new double[n, n];
        for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            dist[i, j] = dist[j, i] = Embeddings.CosineDistance(sightings[i].Track.Embedding, sightings[j].Track.Embedding);

        var clusters = Enumerable.Range(0, n).Select(i => new List<int> { i }).ToList();
        while (true)
        {
            double best = double.PositiveInfinity;
            int ba = -1, bb = -1;
            for (int a = 0; a < clusters.Count; a++)
            for (int b = a + 1; b < clusters.Count; b++)
            {
                double d = 0;
                foreach (var i in clusters[a]) foreach (var j in clusters[b]) d += dist[i, j];
                d /= clusters[a].Count * clusters[b].Count;
                if (d < best && d <= config.MaxTrackDistance && Compatible(clusters[a], clusters[b], sightings, canBeSame))
                    (best, ba, bb) = (d, a, b);
            }
            if (ba < 0) break;
            clusters[ba].AddRange(clusters[bb]);
            clusters.RemoveAt(bb);
        }

        var means = clusters.Select(c => Embeddings.Mean(c.Select(i => sightings[i].Track.Embedding).ToList())).ToList();
        var names = new string?[clusters.Count];
        var knownDist = new double?[clusters.Count];
        if (known is { Count: > 0 } && clusters.Count > 0)
        {
            var cost = new double[clusters.Count, known.Count];
            for (int c = 0; c < clusters.Count; c++)
            for (int k = 0; k < known.Count; k++)
                cost[c, k] = Embeddings.CosineDistance(means[c], known[k].Embedding);
            foreach (var (c, k) in LinearAssignment.Solve(cost, config.MaxKnownDistance).Matches)
            {
                names[c] = known[k].Name;
                knownDist[c] = cost[c, k];
            }
        }
        return clusters
            .Select((c, i) => (Members: c.Select(j => sightings[j]).OrderBy(s => s.StartTime).ToList(), Mean: means[i], Name: names[i], Dist: knownDist[i]))
            .OrderBy(x => x.Members[0].StartTime)
            .Select((x, i) => new GlobalIdentity(i + 1, x.Name, x.Members, x.Mean, x.Dist))
            .ToList();
    }

    private static bool Compatible(List<int> a, List<int> b, List<TrackSighting> s, Func<TrackSighting, TrackSighting, bool>? canBeSame)
    {
        foreach (var i in a)
        foreach (var j in b)
        {
            if (s[i].Camera == s[j].Camera && s[i].StartTime <= s[j].EndTime && s[j].StartTime <= s[i].EndTime) return false;
            if (canBeSame is not null && !canBeSame(s[i], s[j])) return false;
        }
        return true;
    }
}
