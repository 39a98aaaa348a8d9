using Reid.TestSupport;
using Reid.Video.Detectors;

namespace Reid.Video.Tests;

public class VideoConfigTests
{
    private static string RepoConfig => Path.Combine(Core.ProjectPaths.RepoRoot!, "configs", "video.yaml");

    [Fact]
    public void The_shipped_config_loads_and_matches_the_built_in_defaults()
    {
        var c = VideoConfig.Load(RepoConfig);
        Assert.Null(c.Detector.Model);
        Assert.Equal(new Tracking.TrackerConfig(), c.Tracker);
        Assert.Equal(new DetectorConfig(), c.Detector);
        Assert.Equal(new AppearanceConfig(), c.Appearance);
    }

    [Fact]
    public void Enums_relative_paths_and_partial_files_are_read()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("v.yaml"), "detector:\n  model: models/det.onnx\n  layout: yolo_v8\n  preprocessing: ultralytics\ntracker:\n  use_appearance: false\n");
        var c = VideoConfig.Load(dir.File("v.yaml"));
        Assert.Equal(Path.Combine(dir.Path, "models", "det.onnx"), c.Detector.Model);
        Assert.Equal(YoloLayout.YoloV8, c.Detector.Layout);
        Assert.Equal(DetectorPreprocessing.Ultralytics, c.Detector.Preprocessing);
        Assert.False(c.Tracker.UseAppearance);
        Assert.Equal(0.5f, c.Tracker.HighScore);
    }

    [Fact]
    public void Unset_appearance_gates_follow_the_models_declared_threshold_and_set_ones_stay()
    {
        var shipped = VideoConfig.Load(RepoConfig);
        Assert.Null(shipped.Tracker.MaxCosineDistance);
        Assert.Null(shipped.Extraction.Stitch.MaxCosineDistance);

        Assert.Equal(1 - 0.545, shipped.Tracker.ForModel(0.545).AppearanceGate, 9);
        Assert.Equal(1 - 0.545, shipped.Extraction.Stitch.ForModel(0.545).JoinGate, 9);
        Assert.Equal(Tracking.TrackerConfig.FallbackMaxCosineDistance, shipped.Tracker.ForModel(null).AppearanceGate);
        Assert.Equal(Tracking.StitchingConfig.FallbackMaxCosineDistance, shipped.Extraction.Stitch.ForModel(null).JoinGate);

        using var dir = new TempDir();
        File.WriteAllText(dir.File("v.yaml"), "tracker:\n  max_cosine_distance: 0.25\nextraction:\n  stitch:\n    max_cosine_distance: 0.15\n");
        var set = VideoConfig.Load(dir.File("v.yaml"));
        Assert.Equal(0.25, set.Tracker.ForModel(0.545).AppearanceGate);
        Assert.Equal(0.15, set.Extraction.Stitch.ForModel(0.545).JoinGate);
    }

    [Theory]
    [InlineData("tracker:\n  max_cosine_distance: 3\n", "tracker.max_cosine_distance = 3 is out of range; allowed (0, 2] (line 2)")]
    [InlineData("tracker:\n  high_score: 2\n", "tracker.high_score = 2 is out of range; allowed [0, 1] (line 2)")]
    [InlineData("tracker:\n  hihg_score: 0.4\n", "unknown key 'tracker.hihg_score' (line 2)")]
    [InlineData("detector:\n  layout: yolov9\n", "detector.layout (line 2): 'yolov9' is not allowed; use one of auto, yolox_raw")]
    [InlineData("detector: [1, 2\n", "v.yaml")]
    public void Bad_config_is_a_clear_error(string yaml, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("v.yaml"), yaml);
        var e = Assert.Throws<Core.ReidException>(() => VideoConfig.Load(dir.File("v.yaml")));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_bad_config_lists_every_problem_with_its_key_and_line()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("v.yaml"), """
            detector:
              score_threshold: 1.5
              nms_iou: lots
              sizes: [1, 2]
            tracker:
              use_appearance: maybe
              confirm_hits: 0
            extraction:
              stitch:
                max_gap_seconds: 0
            """);
        var e = Assert.Throws<Core.ReidException>(() => VideoConfig.Load(dir.File("v.yaml"))).Message;
        Assert.StartsWith(dir.File("v.yaml"), e);
        Assert.Contains("detector.score_threshold = 1.5 is out of range; allowed [0, 1] (line 2)", e);
        Assert.Contains("detector.nms_iou (line 3): 'lots' is not a number", e);
        Assert.Contains("unknown key 'detector.sizes' (line 4); allowed here: model, layout, preprocessing, person_class", e);
        Assert.Contains("tracker.use_appearance (line 6): 'maybe' is not true or false", e);
        Assert.Contains("tracker.confirm_hits = 0 must be ≥ 1 (line 7)", e);
        Assert.Contains("extraction.stitch.max_gap_seconds = 0 must be > 0 (line 10)", e);
    }

    [Fact]
    public void An_old_camel_case_key_or_value_names_its_snake_case_replacement()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("v.yaml"), "detector:\n  layout: yoloV8\ntracker:\n  highScore: 0.4\nextraction:\n  stitch:\n    maxGapSeconds: 3\n");
        var e = Assert.Throws<Core.ReidException>(() => VideoConfig.Load(dir.File("v.yaml"))).Message;
        Assert.Contains("detector.layout (line 2): 'yoloV8' is now 'yolo_v8'", e);
        Assert.Contains("'tracker.highScore' (line 4) is now 'tracker.high_score'", e);
        Assert.Contains("'extraction.stitch.maxGapSeconds' (line 7) is now 'extraction.stitch.max_gap_seconds'", e);
    }

    /// <summary>Every YAML file in configs/ is the video config or a training recipe, and each loads as shipped.</summary>
    [SharedFact]
    public void Every_shipped_config_loads()
    {
        var files = Directory.GetFiles(Path.Combine(Core.ProjectPaths.RepoRoot!, "configs"), "*.yaml");
        Assert.Contains(RepoConfig, files);
        foreach (var file in files)
            if (file == RepoConfig) VideoConfig.Load(file);
            else Assert.False(string.IsNullOrEmpty(Training.Config.ExperimentConfigLoader.Load(file).Name), file);
    }

    [Fact]
    public void A_missing_detector_says_what_to_get_and_how_to_point_at_it()
    {
        var saved = Environment.GetEnvironmentVariable(VideoConfig.DetectorEnvironmentVariable);
        var savedCache = Environment.GetEnvironmentVariable("REID_MODELS_CACHE");
        try
        {
            Environment.SetEnvironmentVariable(VideoConfig.DetectorEnvironmentVariable, null);
            Environment.SetEnvironmentVariable("REID_MODELS_CACHE", "/nonexistent/reid-models");
            var e = Assert.Throws<Core.ReidException>(() => new VideoConfig().ResolveDetectorModel());
            Assert.Contains("--detector", e.Message);
            Assert.Contains("REID_DETECTOR", e.Message);
            Assert.Contains("YOLOX", e.Message);
            var missing = Assert.Throws<Core.ReidException>(() => new VideoConfig().ResolveDetectorModel("/nowhere/det.onnx"));
            Assert.Contains("/nowhere/det.onnx", missing.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(VideoConfig.DetectorEnvironmentVariable, saved);
            Environment.SetEnvironmentVariable("REID_MODELS_CACHE", savedCache);
        }
    }

    [Fact]
    public void Several_streams_share_the_cores_unless_the_config_sets_threads()
    {
        var cores = Environment.ProcessorCount;
        var one = new VideoConfig().ForStreams(1);
        Assert.Equal((cores, cores), (one.Detector.Threads, one.Appearance.Threads));
        // more cameras than cores: one thread each, never 0 (which would be ONNX Runtime's machine-wide pool again)
        var many = new VideoConfig().ForStreams(cores * 2);
        Assert.Equal((1, 1), (many.Detector.Threads, many.Appearance.Threads));
        var set = new VideoConfig { Detector = new DetectorConfig { Threads = 3 }, Appearance = new AppearanceConfig { Threads = 5 } }.ForStreams(cores * 2);
        Assert.Equal((3, 5), (set.Detector.Threads, set.Appearance.Threads));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VideoConfig().ForStreams(0));
    }
}
