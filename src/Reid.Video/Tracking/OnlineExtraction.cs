using System.Diagnostics;
using Reid.Imaging;
using Reid.Inference;
using Reid.Video.Decoding;
using Reid.Video.Detectors;
using Reid.Video.Quality;

namespace Reid.Video.Tracking;

/// <summary>A box the tracker assigned to track <paramref name="Track"/> in one frame.</summary>
public sealed record TrackedBox(int Track, BoundingBox Box, bool Confirmed);

/// <summary>
/// The per-frame detect → track → embed step and the finishing of tracks into <see cref="PersonTrack"/>s, for one
/// stream of frames (a file or a live camera). <see cref="VideoPersonExtractor"/> feeds it a file's frames and
/// finishes every track at the end; a live pipeline finishes tracks as the tracker lets them go, and snapshots
/// long-running ones. One instance per stream, used from one thread.
/// </summary>
public sealed class OnlineExtraction
{
    private readonly PersonDetector _detector;
    private readonly Embedder _embedder;
    private readonly ExtractionConfig _extraction;
    private readonly Tracker _tracker;
    private readonly Dictionary<int, TrackHistory> _histories = [];
    private readonly Stopwatch _sw = new();

    internal OnlineExtraction(PersonDetector detector, Embedder embedder, ExtractionConfig extraction, TrackerConfig tracker,
        double framesPerSecond, string? camera)
    {
        (_detector, _embedder, _extraction, Camera) = (detector, embedder, extraction, camera);
        _tracker = new Tracker(tracker, framesPerSecond);
    }

    public string? Camera { get; }
    public long Frames { get; private set; }
    public long Detections { get; private set; }
    public double DetectSeconds { get; private set; }
    public double EmbedSeconds { get; private set; }
    public double TrackSeconds { get; private set; }

    /// <summary>The boxes the tracker assigned in the last processed frame, with their track ids (for live previews).</summary>
    public IReadOnlyList<TrackedBox> LastTracked { get; private set; } = [];

    /// <summary>Crops embedded so far, by the tracker and when finishing tracks tracked by motion alone.</summary>
    public long EmbeddedCrops => _tracker.EmbeddingsComputed + _extraEmbedded;
    private long _extraEmbedded;

    /// <summary>Detects, tracks and records one frame; returns its detections.</summary>
    public IReadOnlyList<Detection> Process(VideoFrame frame)
    {
        _sw.Restart();
        var dets = _detector.Detect(frame.Image);
        DetectSeconds += _sw.Elapsed.TotalSeconds;
        Detections += dets.Count;

        double embedThisFrame = 0;
        _sw.Restart();
        var assigned = _tracker.Update(dets, indices =>
        {
            var t0 = Stopwatch.GetTimestamp();
            var crops = indices.Select(i => VideoPersonExtractor.Crop(frame.Image, dets[i].Box)).ToList();
            var e = _embedder.Embed(crops);
            embedThisFrame += Stopwatch.GetElapsedTime(t0).TotalSeconds;
            return e;
        });
        TrackSeconds += _sw.Elapsed.TotalSeconds - embedThisFrame;
        EmbedSeconds += embedThisFrame;

        var tracked = new List<TrackedBox>(assigned.Count);
        foreach (var a in assigned)
        {
            if (!_histories.TryGetValue(a.Track.Id, out var h))
                _histories[a.Track.Id] = h = new TrackHistory(_extraction.MaxCropsPerTrack, _extraction.Quality);
            var det = dets[a.DetectionIndex];
            var obs = new TrackObservation(frame.Number, frame.Timestamp, det.Box, det.Score, a.DetectionIndex);
            h.Add(obs, frame.Image, dets, a.Embedding);
            if (a.Track.State == TrackState.Confirmed) h.Confirmed = true;
            tracked.Add(new TrackedBox(a.Track.Id, det.Box, a.Track.State == TrackState.Confirmed));
        }
        LastTracked = tracked;
        Frames++;
        return dets;
    }

    /// <summary>
    /// Tracks the tracker has let go (lost for longer than its maximum age) since the last call, as finished
    /// person tracks numbered by the tracker's id, crops judged; tracks too short or never confirmed are dropped.
    /// </summary>
    public IReadOnlyList<PersonTrack> TakeEnded()
    {
        var alive = _tracker.Tracks.Select(t => t.Id).ToHashSet();
        var ended = _histories.Keys.Where(id => !alive.Contains(id)).Order().ToList();
        var result = new List<PersonTrack>();
        foreach (var id in ended)
        {
            var h = _histories[id];
            _histories.Remove(id);
            if (Keep(h)) result.Add(Judged(Build(h, id)));
        }
        return result;
    }

    /// <summary>
    /// A snapshot of every live, kept track not reported for <paramref name="everySeconds"/> of frame time as of
    /// <paramref name="now"/> (first report once it has lasted that long): long-running tracks are known before they end.
    /// </summary>
    public IReadOnlyList<PersonTrack> TakeInterim(double now, double everySeconds)
    {
        var result = new List<PersonTrack>();
        foreach (var (id, h) in _histories.OrderBy(kv => kv.Key))
        {
            if (!Keep(h)) continue;
            var since = h.ReportedAt ?? h.Observations[0].Timestamp;
            if (now - since < everySeconds) continue;
            h.ReportedAt = now;
            result.Add(Judged(Build(h, id)));
        }
        return result;
    }

    /// <summary>Every track still open, numbered by the tracker's id and not yet judged (a file run stitches first), oldest first;
    /// the extraction is empty afterwards.</summary>
    public IReadOnlyList<PersonTrack> FinishAll()
    {
        var result = _histories.Where(kv => Keep(kv.Value)).OrderBy(kv => kv.Value.Observations[0].Frame)
            .Select(kv => Build(kv.Value, kv.Key)).ToList();
        _histories.Clear();
        return result;
    }

    /// <summary>Blur is relative to the person's other crops, so it is judged on a whole track.</summary>
    public PersonTrack Judged(PersonTrack t) => t with { Crops = _extraction.Quality.Judge(t.Crops) };

    private bool Keep(TrackHistory h) => h.Confirmed && h.Observations.Count >= _extraction.MinTrackLength;

    private PersonTrack Build(TrackHistory h, int id)
    {
        var members = h.Embeddings;
        if (members.Count == 0)
        {
            // Tracked by motion alone (appearance off): embed the kept crops now.
            members = _embedder.Embed(h.Crops.Select(c => c.Image).ToList()).ToList();
            _extraEmbedded += members.Count;
        }
        return new PersonTrack(id, Camera, h.Observations.ToList(), h.Crops.ToList(), Embeddings.Mean(members), members.Count);
    }

    /// <summary>A track's observations, its embeddings, and crops thinned evenly to a bounded number, each measured for quality
    /// while its frame's other detections are at hand.</summary>
    private sealed class TrackHistory(int maxCrops, CropQualityRules quality)
    {
        public List<TrackObservation> Observations { get; } = [];
        public List<float[]> Embeddings { get; } = [];
        public List<TrackCrop> Crops { get; private set; } = [];
        public bool Confirmed { get; set; }
        /// <summary>Frame time of the last interim report.</summary>
        public double? ReportedAt { get; set; }
        private int _stride = 1;

        public void Add(TrackObservation obs, RgbImage frame, IReadOnlyList<Detection> detections, float[]? embedding)
        {
            if (embedding is not null) Embeddings.Add(embedding);
            if (Observations.Count % _stride == 0)
            {
                var crop = VideoPersonExtractor.Crop(frame, obs.Box);
                Crops.Add(new TrackCrop(obs, crop, quality.Measure(frame.Width, frame.Height, detections, obs.BoxIndex, crop)));
                if (Crops.Count > maxCrops)
                {
                    // Keep every other crop and sample half as often from now on: crops stay evenly spread.
                    Crops = Crops.Where((_, i) => i % 2 == 0).ToList();
                    _stride *= 2;
                }
            }
            Observations.Add(obs);
        }
    }
}
