using System.Diagnostics;
using System.Text.Json;
using Reid.Gallery;
using Reid.TestSupport;
using Reid.Video.Tests.Streams;

namespace Reid.Video.Tests;

/// <summary>`reid watch` run as a user would, on the shared video served as a live TCP camera on loopback.</summary>
public class WatchCommandTests
{
    private static ReidCli.Outcome Reid(params string[] args) => ReidCli.Run(args, new Dictionary<string, string?>
    {
        [VideoConfig.DetectorEnvironmentVariable] = null,
        ["REID_MODELS_CACHE"] = "/nonexistent/reid-models",
        ["REID_WEBHOOK_SECRET"] = null,
    }, TimeSpan.FromMinutes(3));

    private static void AssertOneLineError(ReidCli.Outcome o, string expected)
    {
        Assert.True(o.ExitCode == 1, $"exit {o.ExitCode}: {o.Stderr}{o.Stdout}");
        Assert.Contains(expected, o.Stderr);
        Assert.Single(o.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void A_repeated_camera_id_a_bad_url_or_no_camera_is_one_line_and_exit_1()
    {
        using var dir = new TempDir();
        AssertOneLineError(Reid("watch", "--camera", "a=tcp://127.0.0.1:9", "--camera", "a=tcp://127.0.0.1:10", "--data", dir.File("g")), "'a' is used twice");
        AssertOneLineError(Reid("watch", "--camera", "a=gopher://x/y", "--data", dir.File("g")), "unsupported scheme 'gopher'");
        AssertOneLineError(Reid("watch", "--camera", "a=/nowhere/a.mp4", "--data", dir.File("g")), "/nowhere/a.mp4");
        AssertOneLineError(Reid("watch", "--data", dir.File("g")), "no camera");
        File.WriteAllText(dir.File("c.yaml"), "cameras:\n  - id: x\n    url: tcp://127.0.0.1:9\n    max_fsp: 3\n");
        AssertOneLineError(Reid("watch", "--cameras", dir.File("c.yaml"), "--data", dir.File("g")), "max_fsp");
        Assert.Equal(2, Reid("watch", "--camera", "a=tcp://127.0.0.1:9").ExitCode);   // no gallery named
    }

    [Fact]
    public void A_webhook_without_a_secret_or_with_a_bad_url_is_one_line_and_exit_1()
    {
        using var dir = new TempDir();
        string[] watch = ["watch", "--camera", "a=tcp://127.0.0.1:9", "--data", dir.File("g")];
        AssertOneLineError(Reid([.. watch, "--webhook", "http://127.0.0.1:9/hook"]), "a webhook needs a signing secret: give --webhook-secret-file FILE or set REID_WEBHOOK_SECRET");
        File.WriteAllText(dir.File("secret"), "s3cret\n");
        AssertOneLineError(Reid([.. watch, "--webhook", "ftp://127.0.0.1/hook", "--webhook-secret-file", dir.File("secret")]), "webhook 'ftp://127.0.0.1/hook' is not an http:// or https:// URL");
        File.WriteAllText(dir.File("empty"), "\n");
        AssertOneLineError(Reid([.. watch, "--webhook", "http://127.0.0.1:9/hook", "--webhook-secret-file", dir.File("empty")]), "is empty");
        AssertOneLineError(Reid([.. watch, "--webhook-secret-file", dir.File("secret")]), "--webhook-secret-file is given without any --webhook");
        AssertOneLineError(Reid("serve", "--data", dir.File("s"), "--urls", "http://127.0.0.1:0", "--webhook", "http://127.0.0.1:9/hook"), "--webhook needs --watch");
    }

    private static List<JsonElement> JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static string[] Watch(int port, string gallery, double seconds) =>
        ["watch", "--camera", $"cam1=tcp://127.0.0.1:{port}", "--data", gallery, "--detector", SharedData.YoloxNano,
         "--duration", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--interim", "4", "--status-every", "3", "--json"];

    [SharedFact]
    public void A_live_tcp_camera_stores_people_and_a_restart_continues_with_them()
    {
        using var dir = new TempDir();
        var port = LoopbackServer.FreePort();
        var server = LoopbackServer.Serve(SharedData.Video, port, out var log);
        try
        {
            var first = Reid(Watch(port, dir.File("g"), 30));
            Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout + (server.HasExited ? log.Result : ""));
            var lines = JsonLines(first.Stdout);
            var status = lines.Where(l => l.GetProperty("event").GetString() == "status").ToList();
            Assert.Contains(status, s => s.GetProperty("status").GetString() == "live" && s.GetProperty("frames_decoded").GetInt64() > 0);
            var created = lines.Where(l => l.GetProperty("event").GetString() == "new_identity").ToList();
            Assert.NotEmpty(created);
            Assert.All(created, e => Assert.StartsWith("person-", e.GetProperty("name").GetString()));

            var store = GalleryStore.Open(dir.File("g"));
            var people = store.ListIdentities();
            Assert.Equal(created.Select(e => e.GetProperty("name").GetString()).Order(), people.Select(p => p.Name).Order());
            Assert.All(people, p => Assert.True(p.SightingCount > 0));
            var sightings = people.SelectMany(p => store.GetSightings(p.Id)).ToList();
            Assert.All(sightings, s => Assert.Equal("cam1", s.Origin.Camera));
            Assert.All(sightings, s => Assert.InRange(s.Origin.CapturedAt!.Value, DateTimeOffset.UtcNow.AddMinutes(-3), DateTimeOffset.UtcNow));
            int highest = people.Max(p => int.Parse(p.Name["person-".Length..]));

            // The server keeps streaming; a second watcher on the same gallery continues the numbering.
            LoopbackServer.Stop(server);
            server = LoopbackServer.Serve(SharedData.Video, port, out log);
            // A camera nobody serves runs beside it: its status says so, the live camera goes on.
            var second = Reid([.. Watch(port, dir.File("g"), 20), "--camera", $"dead=tcp://127.0.0.1:{LoopbackServer.FreePort()}"]);
            Assert.True(second.ExitCode == 0, second.Stderr + second.Stdout);
            var status2 = JsonLines(second.Stdout).Where(l => l.GetProperty("event").GetString() == "status").ToList();
            Assert.Contains(status2, s => s.GetProperty("camera").GetString() == "cam1" && s.GetProperty("status").GetString() == "live");
            var dead = status2.Where(s => s.GetProperty("camera").GetString() == "dead").ToList();
            Assert.NotEmpty(dead);
            Assert.All(dead, s => Assert.NotEqual("live", s.GetProperty("status").GetString()));
            Assert.Contains(dead, s => s.GetProperty("last_error").ValueKind == JsonValueKind.String);
            foreach (var e in JsonLines(second.Stdout).Where(l => l.GetProperty("event").GetString() == "new_identity"))
                Assert.True(int.Parse(e.GetProperty("name").GetString()!["person-".Length..]) > highest, e.ToString());
            Assert.True(GalleryStore.Open(dir.File("g")).ListIdentities().Count >= people.Count);
        }
        finally { LoopbackServer.Stop(server); }
    }

    [SharedFact]
    public void Sigterm_stops_cleanly_storing_the_open_tracks()
    {
        using var dir = new TempDir();
        var port = LoopbackServer.FreePort();
        var server = LoopbackServer.Serve(SharedData.Video, port, out _);
        try
        {
            var args = Watch(port, dir.File("g"), 300).ToList();
            args.Remove("--json");
            // Interim reports far apart: what is stored when the signal comes is the open tracks being finished.
            args[args.IndexOf("--interim") + 1] = "600";
            using var p = ReidCli.Start(args);
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Thread.Sleep(TimeSpan.FromSeconds(22));
            Assert.False(p.HasExited, stderr.IsCompleted ? stderr.Result : "");
            using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString()])) kill.WaitForExit();
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(30)), "reid watch did not stop on SIGTERM");
            Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {stderr.Result}{stdout.Result}");
            Assert.Contains("stopped", stderr.Result);
            Assert.Contains("status cam1: live", stdout.Result);
            var people = GalleryStore.Open(dir.File("g")).ListIdentities();
            Assert.NotEmpty(people);
            Assert.All(people, i => Assert.True(i.SightingCount > 0));
        }
        finally { LoopbackServer.Stop(server); }
    }
}
