using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Reid.Core;
using Reid.Gallery.Live;

namespace Reid.Gallery.Tests.Live;

/// <summary>Webhooks against real HTTP targets on loopback (HttpListener).</summary>
public class WebhookTests
{
    private const string Secret = "test-secret-123";

    private sealed record Received(string Body, string? Signature, string? Timestamp, string? EventId, DateTime At);

    /// <summary>A target that answers each request with what <paramref name="answer"/> says (status code; null: never answer).</summary>
    private sealed class Target : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Func<int, int?> _answer;
        private int _count;
        public List<Received> Requests { get; } = [];
        public string Url { get; }

        public Target(Func<int, int?> answer)
        {
            _answer = answer;
            var port = FreePort();
            Url = $"http://127.0.0.1:{port}/hook/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _ = Task.Run(Loop);
        }

        private async Task Loop()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
                var body = await reader.ReadToEndAsync();
                var n = Interlocked.Increment(ref _count);
                lock (Requests) Requests.Add(new Received(body, ctx.Request.Headers[Webhooks.SignatureHeader], ctx.Request.Headers[Webhooks.TimestampHeader],
                    ctx.Request.Headers[Webhooks.EventIdHeader], DateTime.UtcNow));
                if (_answer(n) is { } status)
                {
                    ctx.Response.StatusCode = status;
                    ctx.Response.Close();
                }
                // else: hang (the connection stays open, nothing is answered)
            }
        }

        public Received[] Snapshot() { lock (Requests) return Requests.ToArray(); }

        public void Dispose() { try { _listener.Stop(); _listener.Close(); } catch (ObjectDisposedException) { } }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) Assert.Fail($"timed out waiting for {what}");
            Thread.Sleep(20);
        }
    }

    private static string Expected(string timestamp, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(timestamp + "." + body)));

    [Fact]
    public void Events_are_signed_and_retried_after_500_answers()
    {
        // Two 500s, then 200.
        using var target = new Target(n => n <= 2 ? 500 : 200);
        var hub = new WatchEventHub();
        using var hooks = new Webhooks([target.Url], Secret, new WebhookOptions { FirstBackoff = TimeSpan.FromMilliseconds(100) }, hub);
        var published = hub.Publish(WatchEventHubTests.Event(1));
        WaitUntil(() => hooks.Status[0].Delivered == 1, TimeSpan.FromSeconds(20), "the delivery");
        var got = target.Snapshot();
        Assert.Equal(3, got.Length);
        Assert.All(got, r => Assert.Equal(published.Json, r.Body));
        Assert.All(got, r => Assert.Equal("1", r.EventId));
        Assert.All(got, r => Assert.Equal(Expected(r.Timestamp!, r.Body), r.Signature));
        Assert.InRange(long.Parse(got[0].Timestamp!), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        // Backoff: the waits grow (0.1 s, then 0.2 s).
        Assert.True(got[1].At - got[0].At >= TimeSpan.FromMilliseconds(90), $"{got[1].At - got[0].At}");
        Assert.True(got[2].At - got[1].At >= TimeSpan.FromMilliseconds(190), $"{got[2].At - got[1].At}");
        var status = hooks.Status[0];
        Assert.Equal((1L, 0L, 2L), (status.Delivered, status.Failed, status.Retries));
        Assert.Contains("HTTP 500", status.LastError);
        // A wrong secret would not verify.
        Assert.NotEqual(Webhooks.Sign(Encoding.UTF8.GetBytes("other"), got[2].Timestamp!, Encoding.UTF8.GetBytes(got[2].Body)), got[2].Signature);
    }

    [Fact]
    public void A_hanging_target_delays_neither_the_publisher_nor_another_target_and_gives_up_after_its_tries()
    {
        using var hanging = new Target(_ => null);
        using var good = new Target(_ => 200);
        var hub = new WatchEventHub();
        using var hooks = new Webhooks([hanging.Url, good.Url], Secret,
            new WebhookOptions { AttemptTimeout = TimeSpan.FromSeconds(1), Attempts = 2, FirstBackoff = TimeSpan.FromMilliseconds(100) }, hub);
        var clock = Stopwatch.StartNew();
        for (int i = 1; i <= 5; i++) hub.Publish(WatchEventHubTests.Event(i));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"publishing took {clock.Elapsed}");
        // The good target has all five long before the hanging one's first try times out.
        WaitUntil(() => hooks.Status[1].Delivered == 5, TimeSpan.FromSeconds(10), "the good target");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(0.9), $"the good target took {clock.Elapsed}");
        Assert.Equal(["1", "2", "3", "4", "5"], good.Snapshot().Select(r => r.EventId));
        // The hanging one: each event tried twice (1 s each), then counted as failed.
        WaitUntil(() => hooks.Status[0].Failed >= 1, TimeSpan.FromSeconds(10), "the hanging target's first failure");
        Assert.Equal(0, hooks.Status[0].Delivered);
        Assert.Contains("no answer within 1 s", hooks.Status[0].LastError);
        Assert.Equal(2, hanging.Snapshot().Count(r => r.EventId == "1"));
    }

    [Fact]
    public void An_unreachable_target_is_counted_failed_and_bad_settings_are_clear_errors()
    {
        var url = $"http://127.0.0.1:{FreePort()}/nobody";
        var hub = new WatchEventHub();
        using (var hooks = new Webhooks([url], Secret, new WebhookOptions { Attempts = 2, FirstBackoff = TimeSpan.FromMilliseconds(50) }, hub))
        {
            hub.Publish(WatchEventHubTests.Event(1));
            WaitUntil(() => hooks.Status[0].Failed == 1, TimeSpan.FromSeconds(10), "the failure");
            Assert.Contains("refused", hooks.Status[0].LastError, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(url, hooks.Status[0].Target);
        }
        Assert.Contains("webhook-secret-file", Assert.Throws<ReidException>(() => new Webhooks([url], "")).Message);
        Assert.Contains("not an http:// or https:// URL", Assert.Throws<ReidException>(() => Webhooks.ParseUrl("ftp://x/y")).Message);
        Assert.Contains("not an http:// or https:// URL", Assert.Throws<ReidException>(() => Webhooks.ParseUrl("hooks.example.com")).Message);
        // The query string (a token, say) is not shown in status output.
        using var withToken = new Webhooks(["https://hooks.example.com/x?token=abc"], Secret);
        Assert.Equal("https://hooks.example.com/x", withToken.Status[0].Target);
    }
}
