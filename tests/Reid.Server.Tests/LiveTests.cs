using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Reid.Gallery.Live;
using Reid.Gallery.Video;
using Reid.Imaging;
using Reid.Video.Decoding;
using Reid.Video.Tracking;

namespace Reid.Server.Tests;

/// <summary>The live endpoints against a real server: Server-Sent Events (with resume), the camera list, the frame endpoint.</summary>
public class LiveTests
{
    internal sealed record SseEvent(string? Id, string Type, string Data);

    /// <summary>Reads an SSE stream until <paramref name="enough"/> says so (or the timeout).</summary>
    internal static async Task<List<SseEvent>> ReadEvents(HttpClient http, string? lastEventId, Func<List<SseEvent>, bool> enough,
        Action? onOpen = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/events");
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync(cts.Token);
        using var reader = new StreamReader(stream);
        var events = new List<SseEvent>();
        string? id = null, type = null, data = null;
        onOpen?.Invoke();
        while (!enough(events))
        {
            var line = await reader.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException("the event stream ended");
            if (line.Length == 0)
            {
                if (data is not null) events.Add(new SseEvent(id, type ?? "message", data));
                (id, type, data) = (null, null, null);
            }
            else if (line.StartsWith("id: ")) id = line[4..];
            else if (line.StartsWith("event: ")) type = line[7..];
            else if (line.StartsWith("data: ")) data = line[6..];
        }
        return events;
    }

    private static AssociationEvent Event(int track, string kind = AssociationKinds.NewIdentity) =>
        new(kind, "cam1", track, track, $"person-{track:D4}", null, DateTimeOffset.UtcNow.AddSeconds(-5), DateTimeOffset.UtcNow,
            null, null, 2, true);

    [Fact]
    public async Task Events_stream_to_a_read_key_and_a_reconnect_with_Last_Event_ID_gets_what_it_missed()
    {
        var live = new LiveHost();
        live.Hub.Expect(["cam1"]);
        await using var server = await TestServer.StartAsync(live: live);
        using var http = server.Client(server.ReadKey);

        // Connected first, then the watcher's events arrive.
        var first = await ReadEvents(http, null, got => got.Count(e => e.Id is not null) >= 2,
            onOpen: () => { live.Hub.Publish(Event(1)); live.Hub.Publish(Event(2, AssociationKinds.Link)); });
        var status = first.First();
        Assert.Equal("status", status.Type);
        Assert.Null(status.Id);
        Assert.Equal("connecting", JsonDocument.Parse(status.Data).RootElement.GetProperty("status").GetString());
        var events = first.Where(e => e.Id is not null).ToList();
        Assert.Equal(["1", "2"], events.Select(e => e.Id));
        Assert.Equal(["new_identity", "link"], events.Select(e => e.Type));
        var data = JsonDocument.Parse(events[1].Data).RootElement;
        Assert.Equal("link", data.GetProperty("event").GetString());
        Assert.Equal("person-0002", data.GetProperty("name").GetString());

        // Disconnected; two more happen; the reconnect says it saw 2 and gets 3 and 4.
        live.Hub.Publish(Event(3));
        live.Hub.Publish(Event(4));
        var resumed = await ReadEvents(http, "2", got => got.Count(e => e.Id is not null) >= 2);
        Assert.Equal(["3", "4"], resumed.Where(e => e.Id is not null).Select(e => e.Id));
        Assert.DoesNotContain(resumed, e => e.Type == "gap");

        // Camera list.
        var state = await http.GetFromJsonAsync<JsonElement>("/api/live/cameras");
        Assert.False(state.GetProperty("watching").GetBoolean());
        Assert.Equal("cam1", state.GetProperty("cameras")[0].GetProperty("camera").GetString());
        Assert.Equal(4, state.GetProperty("last_event_id").GetInt64());
    }

    [Fact]
    public async Task Without_a_key_is_401_a_bad_Last_Event_ID_is_400_and_an_unknown_camera_404()
    {
        var live = new LiveHost();
        live.Hub.Expect(["cam1"]);
        await using var server = await TestServer.StartAsync(live: live);
        using var anonymous = server.Client(null);
        var noKey = await anonymous.GetAsync("/api/events");
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Contains("missing API key", await noKey.Content.ReadAsStringAsync());
        // The key is taken from the header only (see LiveEndpoints): a key in the URL is not an API key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/events?key={server.ReadKey}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/live/cameras/cam1/frame.jpg")).StatusCode);

        using var http = server.Client(server.ReadKey);
        using var bad = new HttpRequestMessage(HttpMethod.Get, "/api/events");
        bad.Headers.Add("Last-Event-ID", "yesterday");
        var badAnswer = await http.SendAsync(bad);
        Assert.Equal(HttpStatusCode.BadRequest, badAnswer.StatusCode);
        Assert.Contains("Last-Event-ID", await badAnswer.Content.ReadAsStringAsync());

        var unknown = await http.GetAsync("/api/live/cameras/nope/frame.jpg");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("camera 'nope' is not watched", await unknown.Content.ReadAsStringAsync());
        var noFrame = await http.GetAsync("/api/live/cameras/cam1/frame.jpg");
        Assert.Equal(HttpStatusCode.NotFound, noFrame.StatusCode);
        Assert.Contains("has not delivered a frame yet", await noFrame.Content.ReadAsStringAsync());

        var pixels = new byte[3 * 64 * 48];
        live.Frames.Offer("cam1", new VideoFrame(1, 0, new RgbImage(64, 48, pixels)), [new TrackedBox(3, new BoundingBox(5, 5, 20, 30), true)]);
        var frame = await http.GetAsync("/api/live/cameras/cam1/frame.jpg");
        Assert.Equal(HttpStatusCode.OK, frame.StatusCode);
        Assert.Equal("image/jpeg", frame.Content.Headers.ContentType!.MediaType);
        var image = ImageCodec.Decode(await frame.Content.ReadAsByteArrayAsync(), "frame.jpg");
        Assert.Equal((64, 48), (image.Width, image.Height));
    }
}
