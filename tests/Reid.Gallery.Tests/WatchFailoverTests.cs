using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Reid.TestSupport;

namespace Reid.Gallery.Tests;

/// <summary>
/// Two `reid watch` processes sharing two cameras through one PostgreSQL gallery, as two machines would: the first
/// holds both cameras, is killed with SIGKILL (no clean release), and the second must take both over within 30 s.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class WatchFailoverTests(PostgresCluster cluster, Xunit.Abstractions.ITestOutputHelper output) : INeedsPostgresAndSharedData
{
    /// <summary>A running worker and its JSON lines as they arrive, each with the time it was read.</summary>
    private sealed class Worker : IDisposable
    {
        public Process Process { get; }
        public ConcurrentQueue<(TimeSpan At, JsonElement Line)> Lines { get; } = new();
        public ConcurrentQueue<string> Errors { get; } = new();
        private readonly Stopwatch _clock;

        public Worker(IEnumerable<string> args, Stopwatch clock)
        {
            _clock = clock;
            Process = ReidCli.Start(args, new Dictionary<string, string?> { ["REID_MODELS_CACHE"] = "/nonexistent/reid-models" });
            Process.OutputDataReceived += (_, e) =>
            {
                if (string.IsNullOrWhiteSpace(e.Data)) return;
                try { Lines.Enqueue((_clock.Elapsed, JsonDocument.Parse(e.Data).RootElement.Clone())); }
                catch (JsonException) { Errors.Enqueue("not JSON: " + e.Data); }
            };
            Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Errors.Enqueue(e.Data); };
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public IEnumerable<(TimeSpan At, string Action, string Camera)> Leases() =>
            Lines.Where(l => l.Line.GetProperty("event").GetString() == "lease")
                .Select(l => (l.At, l.Line.GetProperty("action").GetString()!, l.Line.GetProperty("camera").GetString()!));

        public string Log => string.Join('\n', Errors) + "\n" + string.Join('\n', Lines.Select(l => l.Line.GetRawText()));

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }
    }

    private static bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (condition()) return true;
            Thread.Sleep(200);
        }
        return condition();
    }

    [StoreFact]
    public void A_sigkilled_workers_cameras_are_taken_over_by_another_within_30_seconds()
    {
        using var dir = new TempDir();
        var db = cluster.NewDatabase();
        // The shared video, looped, as two cameras; 3 fps keeps two workers' detectors within two cores.
        File.WriteAllText(dir.File("cameras.yaml"), $"""
            cameras:
              - id: door
                url: {SharedData.Video}
                loop: true
                max_fps: 3
              - id: hall
                url: {SharedData.Video}
                loop: true
                max_fps: 3
            """);
        string[] Args(string worker) =>
            ["watch", "--cameras", dir.File("cameras.yaml"), "--database", db, "--data", dir.File(worker), "--detector", SharedData.YoloxNano,
             "--worker", worker, "--lease-seconds", "6", "--interim", "3", "--status-every", "2", "--json"];
        var clock = Stopwatch.StartNew();

        using var a = new Worker(Args("a"), clock);
        Assert.True(WaitFor(() => a.Leases().Count(l => l.Action == "claimed") == 2, TimeSpan.FromSeconds(90)), "worker a never claimed both cameras:\n" + a.Log);
        using var b = new Worker(Args("b"), clock);
        // B is up (its cameras' leases are held by A, so it runs none) and A is producing people.
        Assert.True(WaitFor(() => a.Lines.Any(l => l.Line.GetProperty("event").GetString() == "new_identity"), TimeSpan.FromSeconds(90)), "worker a stored nobody:\n" + a.Log);
        Thread.Sleep(TimeSpan.FromSeconds(8));
        Assert.Empty(b.Leases());
        Assert.False(b.Process.HasExited, b.Log);

        var killedAt = clock.Elapsed;
        a.Process.Kill();   // SIGKILL: no release, no clean stop
        Assert.True(a.Process.WaitForExit(10_000));
        Assert.True(WaitFor(() => b.Leases().Count(l => l.Action == "claimed") == 2, TimeSpan.FromSeconds(45)), "worker b did not take over:\n" + b.Log);
        var takeover = b.Leases().Where(l => l.Action == "claimed").Max(l => l.At) - killedAt;
        Assert.True(takeover < TimeSpan.FromSeconds(30), $"failover took {takeover.TotalSeconds:0.0} s");
        output.WriteLine($"failover: both cameras claimed by b {takeover.TotalSeconds:0.0} s after a was SIGKILLed (lease 6 s)");
        Assert.True(WaitFor(() => b.Lines.Any(l => l.Line.GetProperty("event").GetString() == "status" && l.Line.GetProperty("status").GetString() == "live"),
            TimeSpan.FromSeconds(30)), "the taken-over cameras never went live on b:\n" + b.Log);

        // B stops cleanly: it releases the cameras, so nobody holds them afterwards.
        using (var term = Process.Start("kill", ["-TERM", b.Process.Id.ToString()])) term.WaitForExit();
        Assert.True(b.Process.WaitForExit(60_000), "worker b did not stop on SIGTERM");
        Assert.True(b.Process.ExitCode == 0, b.Log);
        Assert.Equal(2, b.Leases().Count(l => l.Action == "released"));
        var store = PostgresGalleryStore.Open(db);
        Assert.All(store.Leases("observer", TimeSpan.FromSeconds(5)).Holders().Values, Assert.Null);
        Assert.NotEmpty(store.ListIdentities());
    }
}
