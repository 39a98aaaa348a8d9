using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Reid.Gallery;
using Reid.Imaging;
using Reid.TestSupport;
using Reid.Video.Tests.Streams;

namespace Reid.Video.Tests;

/// <summary>`reid serve --watch` as a user runs it: the shared video as a looped file camera, events over SSE and a webhook,
/// the live frame, and a clean stop on SIGTERM with the people stored.</summary>
public class ServeWatchTests
{
    [SharedFact]
    public async Task Serve_watch_streams_events_and_frames_sends_webhooks_and_stops_cleanly()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("cameras.yaml"), $"cameras:\n  - id: door\n    url: {SharedData.Video}\n    loop: true\n    max_fps: 5\n");
        var port = LoopbackServer.FreePort();
        var hookPort = LoopbackServer.FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{hookPort}/hook/");
        listener.Start();
        var hooks = new List<(string Body, string Timestamp, string Signature)>();
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await listener.GetContextAsync(); } catch (Exception) { return; }
                using var reader = new StreamReader(ctx.Request.InputStream);
                var body = await reader.ReadToEndAsync();
                lock (hooks) hooks.Add((body, ctx.Request.Headers["X-Reid-Timestamp"]!, ctx.Request.Headers["X-Reid-Signature"]!));
                ctx.Response.StatusCode = 204;
                ctx.Response.Close();
            }
        });

        using var p = ReidCli.Start(["serve", "--data", dir.File("g"), "--urls", $"http://127.0.0.1:{port}", "--watch", dir.File("cameras.yaml"),
            "--detector", SharedData.YoloxNano, "--webhook", $"http://127.0.0.1:{hookPort}/hook/"], new Dictionary<string, string?>
        {
            ["REID_WEBHOOK_SECRET"] = "s3cret",
            [VideoConfig.DetectorEnvironmentVariable] = null,
        });
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            var clock = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(dir.File("g"), "admin.key")) || !await Healthy(http))
            {
                if (p.HasExited) Assert.Fail($"reid serve exited: {await stderr}{await stdout}");
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "reid serve did not come up");
                await Task.Delay(500);
            }
            http.DefaultRequestHeaders.Add("X-Api-Key", File.ReadAllText(Path.Combine(dir.File("g"), "admin.key")).Trim());

            // A person appears: the event comes over SSE.
            var created = await ReadFirst(http, "new_identity", TimeSpan.FromMinutes(3));
            var identity = created.GetProperty("identity").GetInt64();
            Assert.Equal("door", created.GetProperty("camera").GetString());
            Assert.StartsWith("person-", created.GetProperty("name").GetString());

            var live = await http.GetFromJsonAsync<JsonElement>("/api/live/cameras");
            Assert.True(live.GetProperty("watching").GetBoolean());
            var door = live.GetProperty("cameras")[0];
            Assert.Equal("live", door.GetProperty("status").GetString());
            Assert.True(door.GetProperty("frames_processed").GetInt64() > 0);
            var frame = await http.GetAsync("/api/live/cameras/door/frame.jpg");
            Assert.Equal(HttpStatusCode.OK, frame.StatusCode);
            var jpeg = await frame.Content.ReadAsByteArrayAsync();
            var image = ImageCodec.Decode(jpeg, "frame.jpg");
            var shots = Path.Combine(Reid.Core.ProjectPaths.RepoRoot ?? Path.GetTempPath(), "artifacts", "screenshots");
            Directory.CreateDirectory(shots);
            File.WriteAllBytes(Path.Combine(shots, "7b-live-frame-door.jpg"), jpeg);   // to look at: boxes and names on a real frame
            Assert.True(image.Width >= 320, $"{image.Width}x{image.Height}");
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/live/cameras/back/frame.jpg")).StatusCode);
            var person = await http.GetFromJsonAsync<JsonElement>($"/api/identities/{identity}");
            Assert.All(person.GetProperty("sightings").EnumerateArray(), s => Assert.Equal("door", s.GetProperty("camera").GetString()));

            // The same event reached the webhook, signed.
            clock.Restart();
            while (true)
            {
                lock (hooks) if (hooks.Any(h => h.Body.Contains("\"new_identity\""))) break;
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "no webhook delivery");
                await Task.Delay(200);
            }
            lock (hooks)
                foreach (var (body, timestamp, signature) in hooks)
                    Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData("s3cret"u8.ToArray(), Encoding.UTF8.GetBytes(timestamp + "." + body))), signature);

            using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString()])) kill.WaitForExit();
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(90)), "reid serve did not stop on SIGTERM");
            if (p.ExitCode != 0) Assert.Fail($"exit {p.ExitCode}: {await stderr}{await stdout}");
            Assert.Contains("watch     : 1 camera(s)", await stdout);
            var people = GalleryStore.Open(dir.File("g")).ListIdentities();
            Assert.Contains(people, i => i.Id == identity);
            Assert.All(people, i => Assert.True(i.SightingCount > 0));
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            listener.Stop();
        }
    }

    private static async Task<bool> Healthy(HttpClient http)
    {
        try { return (await http.GetAsync("/health")).IsSuccessStatusCode; }
        catch (HttpRequestException) { return false; }
    }

    private static async Task<JsonElement> ReadFirst(HttpClient http, string type, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        // From the first event kept: the watcher starts with the server, so a person may be named before this connects.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/events");
        request.Headers.Add("Last-Event-ID", "0");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        string? current = null;
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.StartsWith("event: ")) current = line[7..];
            else if (line.StartsWith("data: ") && current == type) return JsonDocument.Parse(line[6..]).RootElement.Clone();
        }
        throw new Xunit.Sdk.XunitException("the event stream ended");
    }
}
