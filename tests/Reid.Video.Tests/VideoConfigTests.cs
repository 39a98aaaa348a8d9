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
        File.WriteAllText(dir.File("v.yaml"), "detector:\n  model: models/det.onnx\n  layout: yoloV8\n  preprocessing: ultralytics\ntracker:\n  useAppearance: false\n");
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
        File.WriteAllText(dir.File("v.yaml"), "tracker:\n  maxCosineDistance: 0.25\nextraction:\n  stitch:\n    maxCosineDistance: 0.15\n");
        var set = VideoConfig.Load(dir.File("v.yaml"));
        Assert.Equal(0.25, set.Tracker.ForModel(0.545).AppearanceGate);
        Assert.Equal(0.15, set.Extraction.Stitch.ForModel(0.545).JoinGate);
    }

    [Theory]
    [InlineData("tracker:\n  maxCosineDistance: 3\n", "maxCosineDistance")]
    [InlineData("tracker:\n  highScore: 2\n", "highScore")]
    [InlineData("tracker:\n  hihgScore: 0.4\n", "hihgScore")]
    [InlineData("detector: [1, 2\n", "v.yaml")]
    public void Bad_config_is_a_clear_error(string yaml, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("v.yaml"), yaml);
        var e = Assert.Throws<Core.ReidException>(() => VideoConfig.Load(dir.File("v.yaml")));
        Assert.Contains(expected, e.Message);
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
}
