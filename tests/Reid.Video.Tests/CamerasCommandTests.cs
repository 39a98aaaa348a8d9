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
