using Reid.Core;
using Reid.Video.Detectors;
using Reid.Video.Tracking;
using Reid.Video.Quality;
using Reid.Core.Config;

namespace Reid.Video;

/// <summary>How frames of the detector's input are prepared.</summary>
public enum DetectorPreprocessing
{
    /// <summary>Follow the output layout: YOLOX layouts get <see cref="Yolox"/>, YOLOv5/v8 <see cref="Ultralytics"/>.</summary>
    Auto,
    /// <summary>BGR pixels 0-255, letterboxed to the top-left corner, pad 114 (the YOLOX reference).</summary>
    Yolox,
    /// <summary>RGB pixels / 255, letterboxed to the centre, pad 114 (the Ultralytics reference).</summary>
    Ultralytics,
}

/// <summary>The person detector: an ONNX model of the YOLO family.</summary>
public sealed record DetectorConfig
{
    /// <summary>Path of the ONNX detector. Relative paths are resolved against the config file's folder.</summary>
    public string? Model { get; init; }
    public YoloLayout Layout { get; init; } = YoloLayout.Auto;
    public DetectorPreprocessing Preprocessing { get; init; } = DetectorPreprocessing.Auto;
    /// <summary>Class index of "person" (0 in COCO).</summary>
    public int PersonClass { get; init; }
    /// <summary>Lowest score kept; the tracker's low-score pass needs boxes below its high threshold.</summary>
    public float ScoreThreshold { get; init; } = 0.1f;
    public float NmsIou { get; init; } = 0.45f;
    /// <summary>Boxes shorter than this (pixels, in the frame) are dropped: too small to re-identify.</summary>
    public float MinHeight { get; init; } = 16;
    /// <summary>ONNX Runtime intra-op threads (0 = its default).</summary>
    public int Threads { get; init; }

    public void Validate() => ConfigProblems.Validate("detector config", Check);

    internal void Check(ConfigProblems p)
    {
        p.Range("detector.score_threshold", ScoreThreshold, 0, 1);
        p.Range("detector.nms_iou", NmsIou, 0, 1, loOpen: true);
        p.Minimum("detector.person_class", PersonClass, 0);
        p.Minimum("detector.min_height", MinHeight, 0);
        p.Minimum("detector.threads", Threads, 0);
    }
}

/// <summary>The ReID model that embeds person crops.</summary>
public sealed record AppearanceConfig
{
    /// <summary>Path of the ReID ONNX model; null = the project's default model.</summary>
    public string? Model { get; init; }
    public int BatchSize { get; init; } = 16;
    public int Threads { get; init; }
}

/// <summary>What <see cref="VideoPersonExtractor"/> keeps of each track.</summary>
public sealed record ExtractionConfig
{
    /// <summary>Tracks with fewer detections are dropped (fragments and false positives).</summary>
    public int MinTrackLength { get; init; } = 5;
    /// <summary>At most this many crops are kept per track, spread evenly over its life.</summary>
    public int MaxCropsPerTrack { get; init; } = 32;
    /// <summary>Joining a lost track with a later track of the same person (off unless enabled).</summary>
    public StitchingConfig Stitch { get; init; } = new();
    /// <summary>When a crop is flawed (cut at the border, truncated, blurred, occluded) and kept out of the gallery.</summary>
    public CropQualityRules Quality { get; init; } = new();
}

/// <summary>Everything the video pipeline reads from configs/video.yaml.</summary>
public sealed record VideoConfig
{
    public DetectorConfig Detector { get; init; } = new();
    public TrackerConfig Tracker { get; init; } = new();
    public AppearanceConfig Appearance { get; init; } = new();
    public ExtractionConfig Extraction { get; init; } = new();

    /// <summary>The environment variable that names the detector model when neither config nor command line does.</summary>
    public const string DetectorEnvironmentVariable = "REID_DETECTOR";

    public static VideoConfig Load(string path)
    {
        if (!File.Exists(path)) throw new ReidException($"video config not found: {path}");
        var full = Path.GetFullPath(path);
        var (config, problems) = ConfigBinder.Bind<VideoConfig>(File.ReadAllText(full), full);
        var dir = Path.GetDirectoryName(full)!;
        config = config with
        {
            Detector = config.Detector with { Model = Resolve(config.Detector.Model, dir) },
            Appearance = config.Appearance with { Model = Resolve(config.Appearance.Model, dir) },
        };
        config.Check(problems);
        problems.ThrowIfAny();
        return config;
    }

    /// <summary>configs/video.yaml of the repository when present, else the built-in defaults.</summary>
    public static VideoConfig LoadDefault()
    {
        var path = ProjectPaths.RepoRoot is { } root ? Path.Combine(root, "configs", "video.yaml") : null;
        return path is not null && File.Exists(path) ? Load(path) : new VideoConfig();
    }

    /// <summary>
    /// This config for <paramref name="streams"/> cameras processed at once, each on its own thread. Thread counts left at 0
    /// (ONNX Runtime's choice: a pool per session as wide as the machine, spinning while it waits) become each camera's share
    /// of the cores, at least 1; counts set in the config are kept. Several cameras' detector pools plus the shared embedder's
    /// otherwise fight over the cores: on a 2-core machine 4 streams dropped 15 % of their frames with the wide pools and
    /// 1.6 % with one thread each (docs/BENCHMARKS.md, "Live camera network").
    /// </summary>
    public VideoConfig ForStreams(int streams)
    {
        if (streams < 1) throw new ArgumentOutOfRangeException(nameof(streams), streams, "at least one stream");
        var share = Math.Max(1, Environment.ProcessorCount / streams);
        return this with
        {
            Detector = Detector with { Threads = Detector.Threads > 0 ? Detector.Threads : share },
            Appearance = Appearance with { Threads = Appearance.Threads > 0 ? Appearance.Threads : share },
        };
    }

    public void Validate() => ConfigProblems.Validate("video config", Check);

    private void Check(ConfigProblems p)
    {
        Detector.Check(p);
        Tracker.Check(p);
        p.Minimum("appearance.batch_size", Appearance.BatchSize, 1);
        p.Minimum("appearance.threads", Appearance.Threads, 0);
        p.Minimum("extraction.min_track_length", Extraction.MinTrackLength, 1);
        p.Minimum("extraction.max_crops_per_track", Extraction.MaxCropsPerTrack, 1);
        Extraction.Stitch.Check(p);
        Extraction.Quality.Check(p);
    }

    /// <summary>
    /// The detector model to use: <paramref name="overridePath"/> (--detector), else the config's, else
    /// REID_DETECTOR. Throws a ReidException that says what to get and how to point at it when none exists.
    /// </summary>
    public string ResolveDetectorModel(string? overridePath = null)
    {
        var candidates = new[]
        {
            (overridePath, "--detector"),
            (Detector.Model, "detector.model in the video config"),
            (Environment.GetEnvironmentVariable(DetectorEnvironmentVariable), DetectorEnvironmentVariable),
        };
        foreach (var (path, source) in candidates)
        {
            if (string.IsNullOrWhiteSpace(path)) continue;
            if (File.Exists(path)) return Path.GetFullPath(path);
            throw new ReidException($"the person detector named by {source} does not exist: {path}. {Advice}");
        }
        // Last resort: a detector fetched with `reid models fetch yolox-nano`.
        if (Models.ModelFetcher.Cached(Models.ModelFetcher.Catalog[0]) is { } fetched) return fetched;
        throw new ReidException($"no person detector is configured. {Advice}");
    }

    public const string Advice =
        "reid does not ship third-party detector weights: get an ONNX person detector of the YOLO family, e.g. YOLOX-Nano " +
        "(yolox_nano.onnx from the Megvii-BaseDetection/YOLOX GitHub releases, Apache-2.0) or a YOLOv5/YOLOv8 ONNX export, " +
        "then point at it with --detector PATH, the REID_DETECTOR environment variable, or detector.model in configs/video.yaml " +
        "(`reid models fetch yolox-nano` downloads YOLOX-Nano from its official release into the user cache, where it is found)";

    private static string? Resolve(string? path, string dir) =>
        string.IsNullOrWhiteSpace(path) ? null : Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(dir, path));
}
