using System.Diagnostics;
using Reid.Core;
using Reid.Imaging;
using Reid.Inference;
using Reid.Video.Decoding;
using Reid.Video.Detectors;
using Reid.Video.Quality;
using Reid.Video.Tracking;

namespace Reid.Video;

/// <summary>
/// Video → people: decodes frames (ffmpeg or an image-sequence folder), detects people on every frame,
/// tracks them (<see cref="Tracker"/>), embeds crops where the tracker needs it and returns one
/// <see cref="PersonTrack"/> per person. The detector and the ReID model are loaded once, in the
/// constructor; one extractor handles one video at a time (create several for parallel work).
/// </summary>
public sealed class VideoPersonExtractor : IDisposable
{
    private readonly VideoConfig _config;
    private readonly PersonDetector _detector;
    private readonly Embedder _embedder;

    public VideoConfig Config => _config;
    public string DetectorPath => _detector.ModelPath;
    public string EmbedderPath => _embedder.ModelPath;
    public Embedder Embedder => _embedder;

    /// <summary>The tracker's settings for this ReID model: an unset appearance gate follows the model's declared threshold.</summary>
    public TrackerConfig TrackerSettings => _config.Tracker.ForModel(_embedder.DeclaredThreshold?.Score);

    /// <param name="config">Detector, tracker, appearance and extraction settings.</param>
    /// <param name="detectorPath">Overrides the config's detector (--detector); REID_DETECTOR is the last resort.</param>
    /// <param name="embedder">An already open ReID model to share; when null the config's (or the default) model is opened.</param>
    /// <exception cref="ReidException">No detector configured or found (the message says what to get and how to point at it),
    /// or a model that cannot be loaded.</exception>
    public VideoPersonExtractor(VideoConfig config, string? detectorPath = null, Embedder? embedder = null)
    {
        config.Validate();
        _config = config;
        var detector = config.ResolveDetectorModel(detectorPath);
        _detector = new PersonDetector(detector, config.Detector);
        try
        {
            _ownsEmbedder = embedder is null;
            _embedder = embedder ?? Embedder.Open(config.Appearance.Model ?? ProjectModels.DefaultReidModel,
                new EmbedderOptions(BatchSize: config.Appearance.BatchSize, IntraOpThreads: config.Appearance.Threads));
        }
        catch
        {
            _detector.Dispose();
            throw;
        }
    }

    private readonly bool _ownsEmbedder;

    /// <summary>
    /// The people in <paramref name="videoPath"/> (a video file or a MOT image-sequence folder) between
    /// 1-based frames <paramref name="fromFrame"/> and <paramref name="toFrame"/> (inclusive; null = start/end).
    /// </summary>
    public IReadOnlyList<PersonTrack> Extract(string videoPath, long? fromFrame, long? toFrame,
        IProgress<double>? progress, CancellationToken ct) =>
        ExtractDetailed(videoPath, new FrameRange(fromFrame, toFrame), camera: null, progress, ct).Tracks;

    /// <summary>Like <see cref="Extract"/>, with a frame step, a camera id, timings and any decoding warning.</summary>
    public VideoTracks ExtractDetailed(string videoPath, FrameRange range, string? camera, IProgress<double>? progress,
        CancellationToken ct, Action<VideoFrame, IReadOnlyList<Detection>>? onFrame = null)
    {
        using var source = FrameSource.Open(videoPath, range);
        double fps = source.Info.FramesPerSecond / range.Step;
        var tracker = new Tracker(TrackerSettings, fps);
        var histories = new Dictionary<int, TrackHistory>();
        var total = Stopwatch.StartNew();
        var sw = new Stopwatch();
        double decode = 0, detect = 0, embed = 0, track = 0;
        long frames = 0, detections = 0;
        long? expected = source.ExpectedFrames;

        using var enumerator = source.ReadFrames(ct).GetEnumerator();
        while (true)
        {
            sw.Restart();
            bool more = enumerator.MoveNext();
            decode += sw.Elapsed.TotalSeconds;
            if (!more) break;
            ct.ThrowIfCancellationRequested();
            var frame = enumerator.Current;

            sw.Restart();
            var dets = _detector.Detect(frame.Image);
            detect += sw.Elapsed.TotalSeconds;
            detections += dets.Count;
            onFrame?.Invoke(frame, dets);

            double embedThisFrame = 0;
            sw.Restart();
            var assigned = tracker.Update(dets, indices =>
            {
                var t0 = Stopwatch.GetTimestamp();
                var crops = indices.Select(i => Crop(frame.Image, dets[i].Box)).ToList();
                var e = _embedder.Embed(crops);
                embedThisFrame += Stopwatch.GetElapsedTime(t0).TotalSeconds;
                return e;
            });
            track += sw.Elapsed.TotalSeconds - embedThisFrame;
            embed += embedThisFrame;

            foreach (var a in assigned)
            {
                if (!histories.TryGetValue(a.Track.Id, out var h))
                    histories[a.Track.Id] = h = new TrackHistory(_config.Extraction.MaxCropsPerTrack, _config.Extraction.Quality);
                var det = dets[a.DetectionIndex];
                var obs = new TrackObservation(frame.Number, frame.Timestamp, det.Box, det.Score, a.DetectionIndex);
                h.Add(obs, frame.Image, dets, a.Embedding);
                if (a.Track.State == TrackState.Confirmed) h.Confirmed = true;
            }
            frames++;
            if (expected is > 0) progress?.Report(Math.Min(1.0, (double)frames / expected.Value));
        }

        var tracks = Finish(histories, camera);
        IReadOnlyList<PersonTrack> people = tracks.Select(t => t.Item1).ToList();
        if (_config.Extraction.Stitch.Enabled)
            people = TrackStitcher.Stitch(people, _config.Extraction.Stitch.ForModel(_embedder.DeclaredThreshold?.Score), _config.Extraction.MaxCropsPerTrack);
        // Blur is relative to the person's other crops, so it is judged on the final tracks (after stitching).
        people = people.Select(p => p with { Crops = _config.Extraction.Quality.Judge(p.Crops) }).ToList();
        progress?.Report(1.0);
        var stats = new ExtractionStats(frames, detections, tracker.EmbeddingsComputed + tracks.Sum(t => t.Item2),
            decode, detect, embed, track, total.Elapsed.TotalSeconds, source.Warning);
        return new VideoTracks(source.Info, camera, people, stats);
    }

    private List<(PersonTrack, int)> Finish(Dictionary<int, TrackHistory> histories, string? camera)
    {
        var kept = histories.Values
            .Where(h => h.Confirmed && h.Observations.Count >= _config.Extraction.MinTrackLength)
            .OrderBy(h => h.Observations[0].Frame).ToList();
        var result = new List<(PersonTrack, int)>();
        int id = 1;
        foreach (var h in kept)
        {
            int extra = 0;
            var members = h.Embeddings;
            if (members.Count == 0)
            {
                // Tracked by motion alone (appearance off): embed the kept crops now.
                members = _embedder.Embed(h.Crops.Select(c => c.Image).ToList()).ToList();
                extra = members.Count;
            }
            result.Add((new PersonTrack(id++, camera, h.Observations, h.Crops.ToList(), Embeddings.Mean(members), members.Count), extra));
        }
        return result;
    }

    /// <summary>The frame's pixels inside the box (clamped to the frame, at least 1 x 1).</summary>
    public static RgbImage Crop(RgbImage frame, BoundingBox box)
    {
        int x0 = Math.Clamp((int)MathF.Floor(box.X), 0, frame.Width - 1);
        int y0 = Math.Clamp((int)MathF.Floor(box.Y), 0, frame.Height - 1);
        int x1 = Math.Clamp((int)MathF.Ceiling(box.Right), x0 + 1, frame.Width);
        int y1 = Math.Clamp((int)MathF.Ceiling(box.Bottom), y0 + 1, frame.Height);
        return frame.Crop(x0, y0, x1 - x0, y1 - y0);
    }

    public void Dispose()
    {
        _detector.Dispose();
        if (_ownsEmbedder) _embedder.Dispose();
    }

    /// <summary>A track's observations, its embeddings, and crops thinned evenly to a bounded number, each measured for quality
    /// while its frame's other detections are at hand.</summary>
    private sealed class TrackHistory(int maxCrops, CropQualityRules quality)
    {
        public List<TrackObservation> Observations { get; } = [];
        public List<float[]> Embeddings { get; } = [];
        public List<TrackCrop> Crops { get; private set; } = [];
        public bool Confirmed { get; set; }
        private int _stride = 1;

        public void Add(TrackObservation obs, RgbImage frame, IReadOnlyList<Detection> detections, float[]? embedding)
        {
            if (embedding is not null) Embeddings.Add(embedding);
            if (Observations.Count % _stride == 0)
            {
                var crop = Crop(frame, obs.Box);
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
