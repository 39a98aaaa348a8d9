using System.Data.Common;
using Reid.Core;
using Reid.Gallery.Video;
using Reid.Video;
using Reid.Imaging;
using Reid.Video.Streams;

namespace Reid.Gallery.Tests;

/// <summary>Track reports while the store is unreachable: nothing acknowledged is lost, order is kept, the backlog is bounded.</summary>
public class ReportBacklogTests
{
    private sealed class Unreachable() : DbException("connection refused") { public override bool IsTransient => true; }
    private sealed class Refused() : DbException("duplicate key") { public override bool IsTransient => false; public override string SqlState => "23505"; }

    /// <summary>A store that is down while <see cref="Down"/> is set, and records what it stored.</summary>
    private sealed class Store
    {
        public bool Down { get; set; }
        public List<int> Stored { get; } = [];
        public AssociationEvent? Handle(LiveTrack r)
        {
            if (Down) throw new ReidException("the gallery could not be reached", new Unreachable());
            Stored.Add(r.Track.Id);
            return new AssociationEvent(AssociationKinds.Sighting, r.Camera, r.Track.Id, 1, "p", null, r.Start, r.End, null, null, 1, r.Final);
        }
    }

    private static LiveTrack Report(int id) =>
        new("cam", new PersonTrack(id, "cam", [new TrackObservation(1, id, new BoundingBox(0, 0, 10, 20), 0.9f, 0)], [], [1f], 1), true, DateTimeOffset.UnixEpoch);

    [Fact]
    public void Reports_wait_while_the_store_is_down_and_are_stored_in_order_when_it_returns()
    {
        var store = new Store();
        var events = new List<int>();
        var backlog = new ReportBacklog(store.Handle, e => events.Add(e.Track)) { RetryEvery = TimeSpan.Zero };
        backlog.Add(Report(1));
        store.Down = true;
        backlog.Add(Report(2));
        backlog.Add(Report(3));
        Assert.Equal(2, backlog.Waiting);
        Assert.Contains("2 track report(s) waiting for the store", backlog.Error);
        Assert.Contains("could not be reached", backlog.Error);
        store.Down = false;
        backlog.Add(Report(4));
        Assert.Equal([1, 2, 3, 4], store.Stored);
        Assert.Equal([1, 2, 3, 4], events);   // every report acknowledged once its sightings are stored
        Assert.Equal((0, 0L, (string?)null), (backlog.Waiting, backlog.Dropped, backlog.Error));
    }

    [Fact]
    public void A_dead_store_is_not_asked_again_before_the_retry_interval()
    {
        var store = new Store { Down = true };
        int calls = 0;
        var backlog = new ReportBacklog(r => { calls++; return store.Handle(r); }, _ => { }) { RetryEvery = TimeSpan.FromHours(1) };
        for (int i = 0; i < 5; i++) backlog.Add(Report(i));
        Assert.Equal(1, calls);      // a camera does not wait on a dead database for every track
        Assert.Equal(5, backlog.Waiting);
    }

    [Fact]
    public void Waiting_reports_are_stored_on_a_timer_when_the_camera_has_nothing_new_to_report()
    {
        var store = new Store { Down = true };
        using var backlog = new ReportBacklog(store.Handle, _ => { }) { RetryEvery = TimeSpan.FromMilliseconds(100) };
        backlog.Add(Report(1));
        Assert.Equal(1, backlog.Waiting);
        lock (store) store.Down = false;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (backlog.Waiting > 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(20);
        Assert.Equal(0, backlog.Waiting);   // no further Add: the timer offered it again
        Assert.Equal([1], store.Stored);
        Assert.Null(backlog.Error);
    }

    [Fact]
    public void The_backlog_is_bounded_and_counts_what_it_drops()
    {
        var store = new Store { Down = true };
        var backlog = new ReportBacklog(store.Handle, _ => { }) { Capacity = 3, RetryEvery = TimeSpan.Zero };
        for (int i = 1; i <= 5; i++) backlog.Add(Report(i));
        Assert.Equal((3, 2L), (backlog.Waiting, backlog.Dropped));
        Assert.Contains("2 dropped", backlog.Error);
        store.Down = false;
        backlog.Drain(TimeSpan.FromSeconds(1));
        Assert.Equal([3, 4, 5], store.Stored);   // the newest were kept
        Assert.Contains("2 track report(s) could not be stored", backlog.Error);
    }

    [Fact]
    public void A_report_the_store_refuses_for_good_is_dropped_and_does_not_block_the_others()
    {
        int calls = 0;
        var store = new Store();
        var backlog = new ReportBacklog(r => ++calls == 1 ? throw new ReidException("bad", new Refused()) : store.Handle(r), _ => { }) { RetryEvery = TimeSpan.Zero };
        backlog.Add(Report(1));
        backlog.Add(Report(2));
        Assert.Equal([2], store.Stored);
        Assert.Equal((0, 1L), (backlog.Waiting, backlog.Dropped));
        Assert.Contains("track 1 not stored", backlog.Error);
    }

    [Fact]
    public void On_stop_reports_still_waiting_after_the_grace_time_are_counted_as_lost()
    {
        var store = new Store { Down = true };
        var backlog = new ReportBacklog(store.Handle, _ => { }) { RetryEvery = TimeSpan.FromMilliseconds(20) };
        backlog.Add(Report(1));
        backlog.Add(Report(2));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        backlog.Drain(TimeSpan.FromMilliseconds(200));
        Assert.InRange(clock.Elapsed.TotalMilliseconds, 150, 5000);
        Assert.Equal((0, 2L), (backlog.Waiting, backlog.Dropped));
        Assert.Empty(store.Stored);
    }

    [Fact]
    public void A_database_shutting_down_counts_as_unreachable_but_a_refused_write_does_not()
    {
        Assert.True(ReportBacklog.Unreachable(new ReidException("x", new Unreachable())));
        Assert.True(ReportBacklog.Unreachable(new IOException("reset")));
        Assert.False(ReportBacklog.Unreachable(new ReidException("x", new Refused())));
        Assert.False(ReportBacklog.Unreachable(new ReidException("model mismatch")));
    }
}
