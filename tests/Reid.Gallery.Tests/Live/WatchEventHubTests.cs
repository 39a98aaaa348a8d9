using System.Diagnostics;
using System.Text.Json;
using Reid.Gallery.Live;
using Reid.Gallery.Video;
using Reid.Video.Streams;

namespace Reid.Gallery.Tests.Live;

public class WatchEventHubTests
{
    internal static AssociationEvent Event(int track, string kind = AssociationKinds.NewIdentity, string camera = "cam1") =>
        new(kind, camera, track, 100 + track, $"person-{track:D4}", kind == AssociationKinds.NewIdentity ? null : 0.91,
            DateTimeOffset.Parse("2026-12-07T10:00:00Z"), DateTimeOffset.Parse("2026-12-07T10:00:05Z"),
            kind == AssociationKinds.Link ? "cam2" : null, kind == AssociationKinds.Link ? 7 : null, 3, true);

    private static List<HubEvent> Drain(HubSubscription s)
    {
        var list = new List<HubEvent>();
        while (s.Reader.TryRead(out var e)) list.Add(e);
        return list;
    }

    [Fact]
    public void Events_get_increasing_ids_and_the_shared_json_shape()
    {
        var hub = new WatchEventHub();
        using var sub = hub.Subscribe();
        var a = hub.Publish(Event(1));
        var b = hub.Publish(Event(2, AssociationKinds.Link));
        Assert.Equal(1, a.Id);
        Assert.Equal(2, b.Id);
        Assert.Equal(2, hub.LastId);
        Assert.Equal([1L, 2L], Drain(sub).Select(e => e.Id));

        using var doc = JsonDocument.Parse(b.Json);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        // The field names `reid watch --json` has always written, then the frame-to-event latency fields added after them.
        Assert.Equal(["event", "camera", "track", "identity", "name", "score", "start", "end", "linked_camera", "linked_track", "sightings_stored", "final",
            "frame_at", "latency_ms"], names);
        Assert.Equal("link", doc.RootElement.GetProperty("event").GetString());
        Assert.Equal("cam2", doc.RootElement.GetProperty("linked_camera").GetString());
        Assert.Equal(102, doc.RootElement.GetProperty("identity").GetInt64());
    }

    [Fact]
    public void A_reconnecting_reader_gets_what_it_missed_from_the_ring_and_is_told_what_left_it()
    {
        var hub = new WatchEventHub(ringCapacity: 5);
        for (int i = 1; i <= 3; i++) hub.Publish(Event(i));
        using (var resumed = hub.Subscribe(lastEventId: 1))
        {
            Assert.Equal([2L, 3L], Drain(resumed).Select(e => e.Id));
            Assert.Equal(0, resumed.Missed);
            hub.Publish(Event(4));
            Assert.Equal([4L], Drain(resumed).Select(e => e.Id));
        }
        for (int i = 5; i <= 9; i++) hub.Publish(Event(i));
        // The ring holds 5..9; a reader last at 2 missed 3 and 4 for good.
        using var late = hub.Subscribe(lastEventId: 2);
        Assert.Equal([5L, 6L, 7L, 8L, 9L], Drain(late).Select(e => e.Id));
        Assert.Equal(2, late.Missed);
        // Without Last-Event-ID: only what comes next.
        using var fresh = hub.Subscribe();
        Assert.Empty(Drain(fresh));
        // An id above any issued (the server restarted and counts from 1 again): the whole ring.
        using var restarted = hub.Subscribe(lastEventId: 500);
        Assert.Equal(5, Drain(restarted).Count);
        Assert.Equal(9, hub.Recent().Last().Id);
        Assert.Equal([8L, 9L], hub.Recent(max: 2).Select(e => e.Id));
    }

    [Fact]
    public void A_reader_that_never_reads_loses_its_oldest_events_and_never_blocks_the_publisher()
    {
        var hub = new WatchEventHub(ringCapacity: 100, subscriberCapacity: 10);
        using var stuck = hub.Subscribe();
        using var reader = hub.Subscribe();
        var got = new List<long>();
        var reading = Task.Run(async () =>
        {
            await foreach (var e in reader.Reader.ReadAllAsync())
            {
                lock (got) got.Add(e.Id);
                if (e.Id == 10_000) break;
            }
        });
        var clock = Stopwatch.StartNew();
        for (int i = 1; i <= 10_000; i++) hub.Publish(Event(i));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"publishing took {clock.Elapsed}");
        var left = Drain(stuck);
        Assert.Equal(10, left.Count);
        Assert.Equal(Enumerable.Range(9_991, 10).Select(i => (long)i), left.Select(e => e.Id));
        Assert.Equal(9_990, stuck.Lost);
        Assert.True(reading.Wait(TimeSpan.FromSeconds(10)));
        lock (got) Assert.Equal(10_000, got.Last());
    }

    [Fact]
    public void Statuses_have_no_id_and_the_latest_per_camera_is_kept()
    {
        var hub = new WatchEventHub();
        hub.Expect(["cam1", "cam2"]);
        Assert.Equal(["connecting", "connecting"], hub.Cameras.Select(c => c.Status));
        using var sub = hub.Subscribe();
        var state = new StreamState("cam1", StreamStatus.Live, null, 50, 2, 0, 768, 432, DateTimeOffset.UtcNow);
        hub.Publish([new CameraStatus(state, 9.5, 48, null)]);
        var e = Assert.Single(Drain(sub));
        Assert.Equal(0, e.Id);
        Assert.Equal("status", e.Type);
        Assert.Equal(0, hub.LastId);
        Assert.Equal("live", hub.Cameras[0].Status);
        Assert.Equal(9.5, hub.Cameras[0].Fps);
        Assert.True(hub.Knows("cam2"));
        Assert.False(hub.Knows("cam3"));
        using var doc = JsonDocument.Parse(e.Json);
        Assert.Equal(["event", "camera", "status", "fps", "frames_processed", "frames_decoded", "frames_dropped", "reconnects", "width", "height", "last_error", "pipeline_error",
            "lag_p50_ms", "lag_p95_ms"],
            doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
    }
}
