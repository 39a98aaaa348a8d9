using System.Diagnostics;
using System.Text.Json;
using Reid.TestSupport;

namespace Reid.Video.Tests;

/// <summary>Runs the built `reid` CLI (copied next to the tests) as a user would.</summary>
public class TrackCommandTests
{
    private static ReidCli.Outcome Reid(params string[] args) => ReidCli.Run(args, new Dictionary<string, string?>
    {
        [VideoConfig.DetectorEnvironmentVariable] = null,
        ["REID_MODELS_CACHE"] = "/nonexistent/reid-models", // a fetched detector must not hide the error
    });

    [Fact]
    public void Without_a_detector_track_exits_1_with_one_line_of_advice()
    {
        using var v = new TinyVideo(5);
        var (code, _, err) = Reid("track", v.Path, "--camera", "c1");
        Assert.Equal(1, code);
        Assert.Contains("--detector", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void Bad_usage_exits_2_and_a_missing_input_exits_1()
    {
        Assert.Equal(2, Reid("track", "x.mp4").ExitCode); // --camera is required
        Assert.Equal(2, Reid("track", "x.mp4", "--camera", "c", "--step", "many").ExitCode);
        var (code, _, err) = Reid("track", "/nowhere/x.mp4", "--camera", "c");
        Assert.Equal(1, code);
        Assert.Contains("/nowhere/x.mp4", err);
    }

    [SharedFact]
    public void Tracks_tud_frames_with_outputs_and_metrics()
    {
        using var dir = new TempDir();
        var tud = SharedData.TudStadtmitte;
        var (code, output, err) = Reid("track", tud, "--camera", "tud", "--from", "1", "--to", "30",
            "--detector", SharedData.YoloxNano, "--model", SharedData.OsnetMsmt17,
            "--gt", Path.Combine(tud, "gt", "gt.txt"), "--out", dir.File("out"), "--json", dir.File("r.json"));
        Assert.True(code == 0, err + output);
        using var json = JsonDocument.Parse(File.ReadAllText(dir.File("r.json")));
        Assert.InRange(json.RootElement.GetProperty("mota").GetDouble(), 0.3, 1);
        Assert.InRange(json.RootElement.GetProperty("idf1").GetDouble(), 0.3, 1);
        Assert.True(json.RootElement.GetProperty("id_switches").GetInt32() >= 0);
        Assert.InRange(json.RootElement.GetProperty("hota").GetDouble(), 0.3, 1);
        Assert.Equal(19, json.RootElement.GetProperty("hota_metrics").GetProperty("hota_per_alpha").GetArrayLength());
        var tracks = json.RootElement.GetProperty("tracks");
        Assert.True(tracks.GetArrayLength() > 3);
        Assert.Equal(512, tracks[0].GetProperty("embedding").GetArrayLength());
        Assert.True(File.Exists(dir.File("out/tracks.txt")));
        Assert.True(File.Exists(dir.File("out/annotated.mp4")));
        Assert.NotEmpty(Directory.GetFiles(dir.File("out/crops"), "*_*.jpg", SearchOption.AllDirectories));
        Assert.Equal(30, Video.Decoding.FfmpegVideoSource.Probe(dir.File("out/annotated.mp4")).FrameCount);
    }
}
