using System.Text.Json;
using Reid.TestSupport;

namespace Reid.Video.Tests;

/// <summary>`reid cameras` run as a user would.</summary>
public class CamerasCommandTests
{
    private const string Start = "2026-11-21T10:00:00Z";

    private static ReidCli.Outcome Reid(params string[] args) => ReidCli.Run(args, new Dictionary<string, string?>
    {
        [VideoConfig.DetectorEnvironmentVariable] = null,
        ["REID_MODELS_CACHE"] = "/nonexistent/reid-models",
    });

    private static void AssertOneLineError(ReidCli.Outcome o, string expected)
    {
        Assert.True(o.ExitCode == 1, $"exit {o.ExitCode}: {o.Stderr}{o.Stdout}");
        Assert.Contains(expected, o.Stderr);
        Assert.Single(o.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Bad_input_gets_one_line_and_exit_1_and_bad_usage_exit_2()
    {
        using var v = new TinyVideo(5);
        using var dir = new TempDir();
        AssertOneLineError(Reid("cameras", "--video", $"c1=/nowhere/a.mp4@{Start}", "--data", dir.File("g")), "/nowhere/a.mp4");
        AssertOneLineError(Reid("cameras", "--video", $"c1={v.Path}", "--data", dir.File("g")), "expected CAMERA=PATH@START");
        AssertOneLineError(Reid("cameras", "--video", $"c1={v.Path}@2026-11-21T10:00:00", "--data", dir.File("g")), "zone");
        File.WriteAllText(dir.File("not-a-dir"), "x");
        AssertOneLineError(Reid("cameras", "--video", $"c1={v.Path}@{Start}", "--data", dir.File("not-a-dir")), "not-a-dir");
        AssertOneLineError(Reid("cameras", "--video", $"c1={v.Path}@{Start}", "--data", dir.File("g"), "--st", dir.File("none.json")), "none.json");
        Assert.Equal(2, Reid("cameras", "--data", dir.File("g")).ExitCode);   // --video is required
    }

    [SharedFact]
    public void Two_halves_of_one_video_store_people_and_a_second_run_re_identifies_them()
    {
        using var dir = new TempDir();
        var video = SharedData.Video;
        string[] Args(string json) =>
        [
            "cameras", "--video", $"cam1={video}#1-600@{Start}", "--video", $"cam2={video}#601-1200@{Start}", "--step", "3",
            "--data", dir.File("gallery"), "--detector", SharedData.YoloxNano, "--model", SharedData.OsnetMsmt17, "--json", dir.File(json),
        ];

        var first = Reid(Args("1.json"));
        Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);
        using var j1 = JsonDocument.Parse(File.ReadAllText(dir.File("1.json")));
        var people1 = j1.RootElement.GetProperty("identities").EnumerateArray().ToList();
        Assert.NotEmpty(people1);
        Assert.All(people1, p => Assert.True(p.GetProperty("new").GetBoolean()));
        Assert.All(people1, p => Assert.StartsWith("person-", p.GetProperty("name").GetString()));
        var tracks1 = j1.RootElement.GetProperty("tracks").EnumerateArray().ToList();
        Assert.Contains(tracks1, t => t.GetProperty("camera").GetString() == "cam1");
        Assert.Contains(tracks1, t => t.GetProperty("camera").GetString() == "cam2");
        int stored = people1.Sum(p => p.GetProperty("sightings_stored").GetInt32());
        Assert.True(stored >= tracks1.Count);

        var second = Reid(Args("2.json"));
        Assert.True(second.ExitCode == 0, second.Stderr + second.Stdout);
        using var j2 = JsonDocument.Parse(File.ReadAllText(dir.File("2.json")));
        var tracks2 = j2.RootElement.GetProperty("tracks").EnumerateArray().ToList();
        Assert.Equal(tracks1.Count, tracks2.Count);
        Assert.All(tracks2, t => Assert.False(t.GetProperty("new").GetBoolean()));
        Assert.All(tracks2, t => Assert.True(t.GetProperty("score").GetDouble() > 0.9));
        Assert.Equal(tracks1.Select(t => t.GetProperty("identity").GetInt64()), tracks2.Select(t => t.GetProperty("identity").GetInt64()));

        var list = ReidCli.Run("gallery", "list", "--data", dir.File("gallery"), "--json", dir.File("list.json"));
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Contains($"{people1.Count} identities", list.Stdout);
    }
}

/// <summary>
/// `reid cameras` end to end without ../shared: two tiny videos drawn by ffmpeg (coloured "people" standing on a
/// grey floor), a real ONNX "detector" that always reports the same two boxes and a real ONNX "ReID model" whose
/// embedding is a crop's mean colour.
/// </summary>
public sealed class CamerasEndToEndTests : IDisposable
{
    private readonly TempDir _dir = new();
    private static readonly (int X, int Y, int W, int H)[] Boxes = [(8, 12, 16, 40), (40, 12, 16, 40)];

    public void Dispose() => _dir.Dispose();

    private string Video(string name, string filter)
    {
        var path = _dir.File(name);
        var args = $"-v error -y -f lavfi -i color=c=gray:s=64x64:r=10 -vf {filter} -frames:v 20 -c:v libx264 -pix_fmt yuv444p {path}";
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ffmpeg", args) { RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
        return path;
    }

    private static string Box(int i, string colour) => $"drawbox=x={Boxes[i].X}:y={Boxes[i].Y}:w={Boxes[i].W}:h={Boxes[i].H}:color={colour}:t=fill";

    /// <summary>A YOLOX-style detector for 64x64 inputs: [1, 84 cells, cx cy w h obj person] with the two boxes, whatever the image.</summary>
    private string Detector()
    {
        int cells = Detectors.YoloOutput.GridCells(64, 64);
        var rows = new float[cells * 6];
        for (int i = 0; i < Boxes.Length; i++)
        {
            var (x, y, w, h) = Boxes[i];
            float[] row = [x + w / 2f, y + h / 2f, w, h, 0.95f, 0.95f];
            row.CopyTo(rows, i * 6);
        }
        var b = new Onnx.OnnxGraphBuilder("constant_detector");
        b.Input("images", Onnx.TensorElementType.Float, 1, 3, 64, 64);
        b.Initializer("boxes", rows, 1, cells, 6);
        b.Initializer("zero", [0f]);
        // Uses the image (times zero) so the graph really reads its input.
        b.Node("ReduceMax", ["images"], ["peak"]).Attr("keepdims", 0L);
        b.Node("Mul", ["peak", "zero"], ["nothing"]);
        b.Node("Add", ["boxes", "nothing"], ["output"]);
        b.Output("output", Onnx.TensorElementType.Float, 1, cells, 6);
        var path = _dir.File("detector.onnx");
        b.Save(path);
        return path;
    }

    private string MeanColourModel()
    {
        var b = new Onnx.OnnxGraphBuilder("mean_colour");
        b.Input("input", Onnx.TensorElementType.Float, "batch", 3, 256, 128);
        b.Node("GlobalAveragePool", ["input"], ["pooled"]);
        b.Node("Flatten", ["pooled"], ["embedding"]).Attr("axis", 1L);
        b.Output("embedding", Onnx.TensorElementType.Float, "batch", 3);
        var path = _dir.File("mean_colour.onnx");
        b.Save(path);
        return path;
    }

    [Fact]
    public void Two_cameras_give_three_people_once_and_the_same_three_again()
    {
        var cam1 = Video("cam1.mp4", $"{Box(0, "red")},{Box(1, "blue")}");
        var cam2 = Video("cam2.mp4", Box(0, "red"));      // box 1 shows the grey floor: a third "person"
        var (detector, model) = (Detector(), MeanColourModel());
        string[] Args(string json) =>
        [
            "cameras", "--video", $"cam1={cam1}@2026-11-21T10:00:00Z", "--video", $"cam2={cam2}@2026-11-21T10:05:00Z",
            "--data", _dir.File("gallery"), "--detector", detector, "--model", model, "--json", _dir.File(json),
        ];

        var first = ReidCli.Run(Args("1.json"), null);
        Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);
        using var j1 = JsonDocument.Parse(File.ReadAllText(_dir.File("1.json")));
        var people = j1.RootElement.GetProperty("identities").EnumerateArray().ToList();
        Assert.Equal(3, people.Count);
        Assert.All(people, p => Assert.True(p.GetProperty("new").GetBoolean()));
        Assert.Equal(["person-0001", "person-0002", "person-0003"], people.Select(p => p.GetProperty("name").GetString()).Order());
        var tracks = j1.RootElement.GetProperty("tracks").EnumerateArray().ToList();
        Assert.Equal(4, tracks.Count);
        long Identity(string camera, int x) => tracks.Single(t => t.GetProperty("camera").GetString() == camera
            && t.GetProperty("first_frame").GetInt64() == 1 && Math.Abs(TrackX(t) - x) < 1).GetProperty("identity").GetInt64();
        Assert.Equal(Identity("cam1", 8), Identity("cam2", 8));               // red, seen by both cameras
        Assert.NotEqual(Identity("cam1", 40), Identity("cam2", 40));          // blue is not the floor
        var end = tracks.Single(t => t.GetProperty("camera").GetString() == "cam2" && Math.Abs(TrackX(t) - 8) < 1).GetProperty("end").GetDateTimeOffset();
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 10, 5, 1, 900, TimeSpan.Zero), end, TimeSpan.FromMilliseconds(1));   // start + frame 20 at 10 fps

        var second = ReidCli.Run(Args("2.json"), null);
        Assert.True(second.ExitCode == 0, second.Stderr + second.Stdout);
        using var j2 = JsonDocument.Parse(File.ReadAllText(_dir.File("2.json")));
        var again = j2.RootElement.GetProperty("identities").EnumerateArray().ToList();
        Assert.Equal(3, again.Count);
        Assert.All(again, p => Assert.False(p.GetProperty("new").GetBoolean()));
        Assert.All(again, p => Assert.True(p.GetProperty("score").GetDouble() > 0.95));
        Assert.Equal(people.Select(p => p.GetProperty("identity").GetInt64()).Order(), again.Select(p => p.GetProperty("identity").GetInt64()).Order());
        Assert.Contains("3 identities", ReidCli.Run("gallery", "list", "--data", _dir.File("gallery")).Stdout);
    }

    [Fact]
    public void A_travel_time_model_that_rules_the_trip_out_keeps_the_red_person_apart()
    {
        var cam1 = Video("cam1.mp4", $"{Box(0, "red")},{Box(1, "blue")}");
        var cam2 = Video("cam2.mp4", Box(0, "red"));
        // Learned: people take about an hour from cam1 to cam2; the videos start 5 minutes apart.
        var learned = Enumerable.Range(0, 20).SelectMany(p => new[]
            { new Reid.SpatialTemporal.LabelledSighting(p, "cam1", 10_000 * p), new Reid.SpatialTemporal.LabelledSighting(p, "cam2", 10_000 * p + 3600 + p) }).ToList();
        Reid.SpatialTemporal.SpatialTemporalModel.Learn(learned, new Reid.SpatialTemporal.SpatialTemporalOptions { SmoothingSeconds = 8 }).Save(_dir.File("st.json"));

        var run = ReidCli.Run(
        [
            "cameras", "--video", $"cam1={cam1}@2026-11-21T10:00:00Z", "--video", $"cam2={cam2}@2026-11-21T10:05:00Z",
            "--data", _dir.File("gallery"), "--detector", Detector(), "--model", MeanColourModel(), "--st", _dir.File("st.json"), "--json", _dir.File("st-run.json"),
        ], null);
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(_dir.File("st-run.json")));
        var tracks = json.RootElement.GetProperty("tracks").EnumerateArray().ToList();
        Assert.Equal(4, tracks.Count);
        Assert.Equal(4, tracks.Select(t => t.GetProperty("identity").GetInt64()).Distinct().Count());   // without --st: 3 (red joined)
        Assert.EndsWith("st.json", json.RootElement.GetProperty("spatial_temporal_model").GetString());
    }

    private static double TrackX(JsonElement track) => track.GetProperty("first_box")[0].GetDouble();
}
