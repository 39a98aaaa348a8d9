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
        var online = StartOnline(source.Info.FramesPerSecond / range.Step, camera);
        var total = Stopwatch.StartNew();
        var sw = new Stopwatch();
        double decode = 0;
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
            var dets = online.Process(frame);
            onFrame?.Invoke(frame, dets);
            if (expected is > 0) progress?.Report(Math.Min(1.0, (double)online.Frames / expected.Value));
        }

        // A file's tracks are numbered 1, 2, … in order of appearance, after the whole video is seen.
        IReadOnlyList<PersonTrack> people = online.FinishAll().Select((t, i) => t with { Id = i + 1 }).ToList();
        if (_config.Extraction.Stitch.Enabled)
            people = TrackStitcher.Stitch(people, _config.Extraction.Stitch.ForModel(_embedder.DeclaredThreshold?.Score), _config.Extraction.MaxCropsPerTrack);
        // Blur is relative to the person's other crops, so it is judged on the final tracks (after stitching).
        people = people.Select(online.Judged).ToList();
        progress?.Report(1.0);
        var stats = new ExtractionStats(online.Frames, online.Detections, online.EmbeddedCrops,
            decode, online.DetectSeconds, online.EmbedSeconds, online.TrackSeconds, total.Elapsed.TotalSeconds, source.Warning);
        return new VideoTracks(source.Info, camera, people, stats);
    }

    /// <summary>
    /// The per-frame detect → track → embed step with this extractor's detector, model and settings, for a stream of
    /// frames arriving at about <paramref name="framesPerSecond"/> (the tracker's ages are in frames). Files and
    /// live cameras both run through it. Not thread-safe: one per stream.
    /// </summary>
    public OnlineExtraction StartOnline(double framesPerSecond, string? camera) =>
        new(_detector, _embedder, _config.Extraction, TrackerSettings, framesPerSecond, camera);

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
}
