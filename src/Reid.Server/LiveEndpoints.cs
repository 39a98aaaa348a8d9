using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Reid.Gallery.Live;

namespace Reid.Server;

/// <summary>
/// The live side of a server: the event hub and latest frames the watcher feeds, and the watcher itself when
/// `reid serve --watch` runs one (<paramref name="watcher"/>: runs until its token is cancelled, then stores open tracks
/// and returns). Without a watcher the hub still serves /api/events (empty until something publishes).
/// </summary>
public sealed class LiveHost(WatchEventHub? hub = null, LiveFrames? frames = null, Action<CancellationToken>? watcher = null,
    Webhooks? webhooks = null)
{
    public WatchEventHub Hub { get; } = hub ?? new WatchEventHub();
    public LiveFrames Frames { get; } = frames ?? new LiveFrames();
    public Action<CancellationToken>? Watcher { get; } = watcher;
    public Webhooks? Webhooks { get; } = webhooks;
    public bool Watching => Watcher is not null;
}

/// <summary>What the Live tab shows of the watcher: is one running, each camera's latest status, each webhook's counters.</summary>
public sealed record LiveDto(bool Watching, IReadOnlyList<CameraStatusDto> Cameras, IReadOnlyList<WebhookStatusDto> Webhooks, long LastEventId);

/// <summary>Runs the watcher on its own long-running thread while the server runs; stopping the server cancels it and
/// waits for it (open tracks finished and stored). A watcher that fails is logged; the server goes on serving.</summary>
internal sealed class WatchService(LiveHost live, ILogger log) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Factory.StartNew(() =>
    {
        try
        {
            log.LogInformation("watcher started: {Cameras} camera(s)", live.Hub.Cameras.Count);
            live.Watcher!(stoppingToken);
            log.LogInformation("watcher stopped; open tracks stored");
        }
        catch (Exception e) { log.LogError(e, "the camera watcher stopped with an error"); }
    }, stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}

internal static class LiveEndpoints
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static void Map(RouteGroupBuilder read, LiveHost live, IHostApplicationLifetime lifetime)
    {
        // Authentication is the read group's: the key in the X-Api-Key header, never in the URL. Browsers' EventSource
        // cannot send headers, so the web UI reads this stream with fetch() (a streamed body it parses itself, ~30 lines)
        // instead of taking the key as a query parameter: keys in URLs end up in access logs, proxies, Referer headers and
        // browser history. Any SSE client that can set a header (curl, EventSource polyfills, HttpClient) works as is.
        read.MapGet("/events", async (HttpContext http) =>
            {
                long? after = null;
                var header = http.Request.Headers["Last-Event-ID"].ToString();
                if (header.Length > 0)
                {
                    if (!long.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                        return Results.Json(new ApiError($"Last-Event-ID must be an event id (a whole number), not '{header}'"), statusCode: 400);
                    after = id;
                }
                using var sub = live.Hub.Subscribe(after);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
                var response = http.Response;
                response.ContentType = "text/event-stream";
                response.Headers.CacheControl = "no-cache";
                response.Headers["X-Accel-Buffering"] = "no";
                var text = new StringBuilder("retry: 2000\n\n");
                if (sub.Missed > 0) text.Append($"event: gap\ndata: {{\"missed\":{sub.Missed}}}\n\n");
                foreach (var s in live.Hub.Cameras) Frame(text, 0, CameraStatusDto.Kind, LiveJson.Serialize(s));
                try
                {
                    await response.WriteAsync(text.ToString(), stop.Token);
                    await response.Body.FlushAsync(stop.Token);
                    while (!stop.IsCancellationRequested)
                    {
                        text.Clear();
                        using (var beat = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
                        {
                            beat.CancelAfter(KeepAlive);
                            try
                            {
                                if (!await sub.Reader.WaitToReadAsync(beat.Token)) break;
                            }
                            catch (OperationCanceledException) when (!stop.IsCancellationRequested) { text.Append(": keep-alive\n\n"); }
                        }
                        long lost = sub.Lost;
                        while (sub.Reader.TryRead(out var e)) Frame(text, e.Id, e.Type, e.Json);
                        if (sub.Lost > lost) text.Append($"event: gap\ndata: {{\"lost\":{sub.Lost}}}\n\n");
                        await response.WriteAsync(text.ToString(), stop.Token);
                        await response.Body.FlushAsync(stop.Token);
                    }
                }
                catch (OperationCanceledException) { }
                catch (IOException) { }   // the client went away
                return Results.Empty;
            })
            .WithName("StreamEvents").Produces<AssociationEventDto>(200, "text/event-stream").Fails(400)
            .WithSummary("Server-Sent Events: every association event (new_identity, link, known_sighting, sighting; with an id) and camera " +
                         "status (event 'status', no id). Send Last-Event-ID to resume: events kept since that id come first ('gap' says how many were lost)");

        read.MapGet("/live/cameras", () => new LiveDto(live.Watching, live.Hub.Cameras, live.Webhooks?.Status ?? [], live.Hub.LastId))
            .WithName("GetLive").Answers<LiveDto>().WithSummary("Whether the server watches cameras, each camera's latest status, webhook counters");

        read.MapGet("/live/cameras/{camera}/frame.jpg", (string camera, HttpContext http) =>
            {
                if (!live.Hub.Knows(camera) && !live.Frames.Has(camera))
                    return Results.Json(new ApiError($"camera '{camera}' is not watched by this server"), statusCode: 404);
                if (live.Frames.Jpeg(camera) is not { } jpeg)
                    return Results.Json(new ApiError($"camera '{camera}' has not delivered a frame yet"), statusCode: 404);
                http.Response.Headers.CacheControl = "no-store";
                http.Response.Headers["X-Frame-Time"] = jpeg.FrameAt.ToString("O", CultureInfo.InvariantCulture);
                return Results.Bytes(jpeg.Jpeg, "image/jpeg");
            })
            .WithName("GetLiveFrame").Produces<byte[]>(200, "image/jpeg").Fails(404)
            .WithSummary("The camera's latest frame with its tracked people boxed and named (JPEG; encoded at most once a second)");
    }

    private static void Frame(StringBuilder text, long id, string type, string json)
    {
        if (id > 0) text.Append("id: ").Append(id.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("event: ").Append(type).Append('\n').Append("data: ").Append(json).Append("\n\n");
    }
}
