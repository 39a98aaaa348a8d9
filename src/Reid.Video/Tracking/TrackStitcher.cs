using Reid.Core;
using Reid.Core.Config;

namespace Reid.Video.Tracking;

/// <summary>When two tracks of one video are joined after tracking (a person lost, then found again as a new track).</summary>
public sealed record StitchingConfig
{
    public bool Enabled { get; init; }
    /// <summary>The later track must start within this many seconds after the earlier one ends.</summary>
    public double MaxGapSeconds { get; init; } = 5.0;
    /// <summary>Largest cosine distance between the two tracks' mean embeddings; null: 1 − the model's declared score, else 0.2.</summary>
    public double? MaxCosineDistance { get; init; }

    /// <summary>The gate when neither the config nor the model sets one (about the MSMT17 OSNet's FAR 1e-3 distance).</summary>
    public const double FallbackMaxCosineDistance = 0.2;

    public double JoinGate => MaxCosineDistance ?? FallbackMaxCosineDistance;

    /// <summary>This config with an unset gate taken from a model's declared decision score (distance = 1 − score).</summary>
    public StitchingConfig ForModel(double? declaredScore) =>
        this with { MaxCosineDistance = TrackerConfig.CosineGate(MaxCosineDistance, declaredScore) };
    /// <summary>How far a person may walk during the gap, in box heights per second (plus one box height of slack).</summary>
    public double MaxHeightsPerSecond { get; init; } = 1.5;

    public void Validate() => ConfigProblems.Validate("stitching config", Check);

    internal void Check(ConfigProblems p)
    {
        p.Minimum("extraction.stitch.max_gap_seconds", MaxGapSeconds, 0, open: true);
        if (MaxCosineDistance is { } gate) p.Range("extraction.stitch.max_cosine_distance", gate, 0, 2);
        p.Minimum("extraction.stitch.max_heights_per_second", MaxHeightsPerSecond, 0);
    }
}

/// <summary>
/// Joins fragments of one person within one video: a track that ended and a later track that starts within
/// <see cref="StitchingConfig.MaxGapSeconds"/>, near where the first was last seen, and looks alike (cosine
/// distance of the mean embeddings). Candidate joins are taken most-alike first; a track joins at most one
/// successor and one predecessor, so chains never overlap in time. The tracker itself already bridges short
/// losses (<see cref="TrackerConfig.MaxLostSeconds"/>); this catches longer ones and tracks it re-started.
/// </summary>
public static class TrackStitcher
{
    public static IReadOnlyList<PersonTrack> Stitch(IReadOnlyList<PersonTrack> tracks, StitchingConfig config, int maxCrops)
    {
        config.Validate();
        int n = tracks.Count;
        var candidates = new List<(double Distance, int Earlier, int Later)>();
        for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++)
        {
            var (ta, tb) = (tracks[a], tracks[b]);
            double gap = tb.StartTime - ta.EndTime;
            if (a == b || tb.FirstFrame <= ta.LastFrame || gap > config.MaxGapSeconds) continue;
            double d = Embeddings.CosineDistance(ta.Embedding, tb.Embedding);
            if (d > config.JoinGate) continue;
            var (last, first) = (ta.Observations[^1].Box, tb.Observations[0].Box);
            double height = (last.Height + first.Height) / 2;
            double walked = Math.Sqrt(Math.Pow(first.CenterX - last.CenterX, 2) + Math.Pow(first.CenterY - last.CenterY, 2));
            if (walked > height * (1 + config.MaxHeightsPerSecond * Math.Max(0, gap))) continue;
            candidates.Add((d, a, b));
        }

        var next = Enumerable.Repeat(-1, n).ToArray();
        var hasPrevious = new bool[n];
        foreach (var (_, a, b) in candidates.OrderBy(c => c.Distance))
        {
            if (next[a] >= 0 || hasPrevious[b]) continue;
            next[a] = b;
            hasPrevious[b] = true;
        }

        var chains = new List<List<PersonTrack>>();
        for (int head = 0; head < n; head++)
        {
            if (hasPrevious[head]) continue;
            var chain = new List<PersonTrack>();
            for (int i = head; i >= 0; i = next[i]) chain.Add(tracks[i]);
            chains.Add(chain);
        }
        return chains.OrderBy(c => c[0].FirstFrame).Select((c, i) => Merge(i + 1, c, maxCrops)).ToList();
    }

    private static PersonTrack Merge(int id, List<PersonTrack> chain, int maxCrops)
    {
        if (chain.Count == 1) return chain[0] with { Id = id };
        var observations = chain.SelectMany(t => t.Observations).ToList();
        var crops = chain.SelectMany(t => t.Crops).ToList();
        if (crops.Count > maxCrops)
            crops = Enumerable.Range(0, maxCrops).Select(k => crops[(int)((long)k * crops.Count / maxCrops)]).ToList();
        // Each fragment's mean weighs as many embeddings as it was computed from.
        var embedding = new float[chain[0].Embedding.Length];
        foreach (var t in chain)
            for (int i = 0; i < embedding.Length; i++) embedding[i] += t.Embedding[i] * Math.Max(1, t.EmbeddingCount);
        Embeddings.Normalise(embedding);
        return new PersonTrack(id, chain[0].Camera, observations, crops, embedding, chain.Sum(t => t.EmbeddingCount));
    }
}
