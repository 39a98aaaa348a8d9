using Reid.Core;
using Reid.Data;
using Reid.Imaging;
using Reid.Video;
using Reid.Video.CrossCamera;
using Reid.Video.Streams;
using Reid.Video.Tracking;

namespace Reid.Gallery.Video;

/// <summary>
/// One person's crops of one camera sequence of a labelled Market-style list, in frame order, at their capture times
/// (seconds on the network's time line, e.g. <c>Reid.SpatialTemporal.MarketClock</c>): what one camera's tracker
/// would have reported for that person. <see cref="Id"/> is the track's number in the replay (1-based, in time order).
/// </summary>
public sealed record ReplayTrack(int Id, int PersonId, string Camera, int Sequence, IReadOnlyList<ImageRecord> Crops, IReadOnlyList<double> Times)
{
    public double Start => Times[0];
    public double End => Times[^1];
}

/// <summary>The tracks of a list; <see cref="Untimed"/> crops had no time (a sequence the clock does not know) and were left out,
/// <see cref="Unlabelled"/> were junk or distractors.</summary>
public sealed record ReplayTracks(IReadOnlyList<ReplayTrack> Tracks, int Untimed, int Unlabelled)
{
    public int Crops => Tracks.Sum(t => t.Crops.Count);
    public int People => Tracks.Select(t => t.PersonId).Distinct().Count();
}

/// <summary>A replay track with its decoded crops, their embeddings and the track's embedding (their normalised mean, as the
/// live pipeline forms <see cref="PersonTrack.Embedding"/>).</summary>
public sealed record EmbeddedReplayTrack(ReplayTrack Track, RgbImage[] Images, float[][] Vectors, float[] Embedding);

/// <summary>What the associator made of one replayed track: its global identity and how it got it (<see cref="AssociationKinds"/>).</summary>
public sealed record ReplayOutcome(ReplayTrack Track, long IdentityId, string Name, string Kind);

/// <summary>
/// Replays a labelled camera network (Market-1501 style: person, camera, sequence, frame) through the
/// <see cref="OnlineAssociator"/> as `reid watch` would see it: every (person, camera, sequence) is one track, all tracks
/// are reported final in the order they end, and the global identities are scored against the true ones
/// (<see cref="ReplayScoring"/>). `reid replay` runs it.
/// </summary>
public static class NetworkReplay
{
    /// <summary>The replay's wall clock: report times are this origin + the clock's seconds.</summary>
    public static readonly DateTimeOffset DefaultOrigin = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Forms the tracks: each identity's crops of one camera and sequence, in frame order (then file name), at
    /// <paramref name="time"/>(camera, sequence, frame) seconds. Records without camera, sequence or frame are refused;
    /// junk/distractor records and crops the clock cannot place are counted and left out. Tracks are numbered in the
    /// order they are reported: by end time, then start time, person, camera, sequence.
    /// </summary>
    public static ReplayTracks FormTracks(IReadOnlyList<ImageRecord> records, Func<string, int, int, double?> time)
    {
        var notMarket = records.Where(r => r.Camera is null || r.Sequence is null || r.Frame is null).ToList();
        if (notMarket.Count > 0)
            throw new ReidException($"{notMarket.Count} of {records.Count} images have no camera, sequence and frame (e.g. {Path.GetFileName(notMarket[0].Path)}): a replay needs Market-style names PPPP_cCsS_FFFFFF_BB.jpg");
        int unlabelled = 0, untimed = 0;
        var groups = new Dictionary<(int Person, string Camera, int Sequence), List<(ImageRecord Record, double Time)>>();
        foreach (var r in records)
        {
            if (r.IsJunk || r.IsDistractor) { unlabelled++; continue; }
            if (time(r.Camera!, r.Sequence!.Value, r.Frame!.Value) is not { } t || !double.IsFinite(t)) { untimed++; continue; }
            var key = (r.PersonId, r.Camera!, r.Sequence!.Value);
            if (!groups.TryGetValue(key, out var list)) groups[key] = list = [];
            list.Add((r, t));
        }
        var formed = groups.Select(g =>
            {
                var crops = g.Value.OrderBy(c => c.Record.Frame).ThenBy(c => c.Record.Path, StringComparer.Ordinal).ToList();
                return (Key: g.Key, Crops: crops);
            })
            .OrderBy(g => g.Crops[^1].Time).ThenBy(g => g.Crops[0].Time).ThenBy(g => g.Key.Person)
            .ThenBy(g => g.Key.Camera, StringComparer.Ordinal).ThenBy(g => g.Key.Sequence)
            .Select((g, i) => new ReplayTrack(i + 1, g.Key.Person, g.Key.Camera, g.Key.Sequence,
                g.Crops.Select(c => c.Record).ToList(), g.Crops.Select(c => c.Time).ToList()))
            .ToList();
        return new ReplayTracks(formed, untimed, unlabelled);
    }

    /// <summary>Decodes and embeds every crop (batches of <paramref name="batch"/>); each track's embedding is the normalised
    /// mean of its crops' (<see cref="Embeddings.Mean"/>, the live pipeline's rule). <paramref name="progress"/> gets crops done.</summary>
    public static IReadOnlyList<EmbeddedReplayTrack> Embed(IReadOnlyList<ReplayTrack> tracks, EmbeddingModel model, int batch = 32, Action<int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var all = tracks.SelectMany(t => t.Crops.Select(c => c.Path)).ToList();
        var images = new RgbImage[all.Count];
        var vectors = new float[all.Count][];
        for (var start = 0; start < all.Count; start += batch)
        {
            var paths = all.Skip(start).Take(batch).ToArray();
            var decoded = ImageBatch.DecodeAll(paths);
            var v = model.Embed(decoded);
            for (var i = 0; i < paths.Length; i++) (images[start + i], vectors[start + i]) = (decoded[i], v[i]);
            progress?.Invoke(Math.Min(all.Count, start + batch));
        }
        var result = new List<EmbeddedReplayTrack>(tracks.Count);
        var k = 0;
        foreach (var t in tracks)
        {
            var n = t.Crops.Count;
            var tv = vectors[k..(k + n)];
            result.Add(new EmbeddedReplayTrack(t, images[k..(k + n)], tv, Embeddings.Mean(tv)));
            k += n;
        }
        return result;
    }

    /// <summary>
    /// A model for the replay's gallery that answers the crops already embedded from memory (by image reference) and
    /// embeds any other through <paramref name="model"/>; it keeps <paramref name="model"/>'s id and declared threshold.
    /// Do not dispose it (it does not own the ONNX session; dispose <paramref name="model"/>).
    /// </summary>
    public static EmbeddingModel Remembering(EmbeddingModel model, IEnumerable<EmbeddedReplayTrack> tracks)
    {
        var known = new Dictionary<RgbImage, float[]>(ReferenceEqualityComparer.Instance);
        foreach (var t in tracks)
            for (var i = 0; i < t.Images.Length; i++) known[t.Images[i]] = t.Vectors[i];
        return new EmbeddingModel(model.Id, model.Dimension, crops =>
        {
            var result = new float[crops.Count][];
            var missing = Enumerable.Range(0, crops.Count).Where(i => !known.TryGetValue(crops[i], out result[i]!)).ToList();
            if (missing.Count > 0)
            {
                var v = model.Embed(missing.Select(i => crops[i]).ToList());
                for (var j = 0; j < missing.Count; j++) result[missing[j]] = v[j];
            }
            return result;
        }, model.Onnx);
    }

    /// <summary>The live report of a replay track: final, its crops as observations (whole-image boxes) at their clock times,
    /// the wall clock <paramref name="origin"/> + those seconds.</summary>
    public static LiveTrack Report(EmbeddedReplayTrack e, DateTimeOffset origin)
    {
        var t = e.Track;
        var observations = t.Crops.Select((c, i) => new TrackObservation(c.Frame!.Value, t.Times[i],
            new BoundingBox(0, 0, e.Images[i].Width, e.Images[i].Height), 1f, 0)).ToList();
        var crops = observations.Select((o, i) => new TrackCrop(o, e.Images[i])).ToList();
        return new LiveTrack(t.Camera, new PersonTrack(t.Id, t.Camera, observations, crops, e.Embedding, e.Vectors.Length), true, origin);
    }

    /// <summary>
    /// Feeds every track, as a final report in the tracks' order (by end time, <see cref="FormTracks"/>), to a new
    /// <see cref="OnlineAssociator"/> over <paramref name="gallery"/> (give it an empty one) and returns each track's identity.
    /// </summary>
    public static IReadOnlyList<ReplayOutcome> Associate(IReadOnlyList<EmbeddedReplayTrack> tracks, GalleryService gallery, OnlineAssociatorOptions options,
        Func<TrackSighting, TrackSighting, bool>? canBeSame = null, DateTimeOffset? origin = null, Action<int>? progress = null)
    {
        var associator = new OnlineAssociator(gallery, options with { Actor = "replay" }, canBeSame);
        var at = origin ?? DefaultOrigin;
        var outcomes = new List<ReplayOutcome>(tracks.Count);
        foreach (var e in tracks.OrderBy(e => e.Track.End).ThenBy(e => e.Track.Id))
        {
            var decision = associator.Handle(Report(e, at))
                ?? throw new InvalidOperationException($"track {e.Track.Id} was not decided (the replay's crops are all usable)");
            outcomes.Add(new ReplayOutcome(e.Track, decision.IdentityId, decision.Name, decision.Kind));
            progress?.Invoke(outcomes.Count);
        }
        return outcomes;
    }

    /// <summary>The outcomes as the scorer reads them: every crop of a track is one sighting of the track's identity.</summary>
    public static IReadOnlyList<ScoredTrack> ForScoring(IEnumerable<ReplayOutcome> outcomes) =>
        outcomes.Select(o => new ScoredTrack(o.Track.Camera, o.Track.PersonId, o.IdentityId, o.Track.Crops.Count)).ToList();
}
