using System.Diagnostics;
using Reid.Core;
using Reid.Gallery.Video;
using Reid.Video.Streams;
using static Reid.Gallery.Tests.CameraNetworkTests;

namespace Reid.Gallery.Tests;

/// <summary>
/// The gallery's PostgreSQL taken away under a watcher and given back (through <see cref="TcpProxy"/>, as a restart or a
/// network fault would): what was acknowledged stays stored, what came meanwhile is stored once the database is back,
/// nobody is made twice, and lease calls fail fast enough for a worker to stop its cameras before its leases lapse.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabaseOutageTests(PostgresCluster cluster) : INeedsPostgres, IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
    private readonly EmbeddingModel _model = Model();

    public void Dispose() => _model.Dispose();

    private static LiveTrack Report(int track, int person) =>
        new("cam1", Track(track, person, 1 + 100 * track, 20, 100 * track + person) with { Camera = "cam1" }, true, T0);

    private static int PortOf(string connectionString) => new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Port;

    [StoreFact]
    public void Reports_made_while_the_database_is_away_are_stored_when_it_returns_and_nothing_acknowledged_is_lost()
    {
        var db = cluster.NewDatabase();
        using var proxy = new TcpProxy(PortOf(db));
        var store = PostgresGalleryStore.Open(proxy.Through(db) + ";Timeout=2;Command Timeout=5");
        using var ledger = store.TrackLedger();
        var associator = new OnlineAssociator(new GalleryService(store, _model), new OnlineAssociatorOptions { Threshold = 1.0 }, ledger: ledger);
        var events = new List<AssociationEvent>();
        using var backlog = new ReportBacklog(associator.Handle, e => { lock (events) events.Add(e); }) { RetryEvery = TimeSpan.FromMilliseconds(100) };

        backlog.Add(Report(1, 0));
        Assert.Single(events);

        proxy.Cut();     // every session dropped, new connections refused
        backlog.Add(Report(2, 1));
        Thread.Sleep(150);
        backlog.Add(Report(3, 2));
        Assert.Single(events);                    // nothing acknowledged while the database is away...
        Assert.Equal(2, backlog.Waiting);         // ...and nothing thrown away
        Assert.Contains("waiting for the store", backlog.Error);

        proxy.Restore();
        backlog.Add(Report(4, 3));
        // The first tries after the outage may draw pooled connections the outage broke; the backlog's timer keeps offering.
        var clock = Stopwatch.StartNew();
        while (backlog.Waiting > 0 && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(50);
        Assert.True(backlog.Waiting == 0, $"{backlog.Waiting} report(s) still waiting {clock.Elapsed.TotalSeconds:0.0} s after the database came back: {backlog.Error}");
        Assert.Null(backlog.Error);
        lock (events) Assert.Equal([1, 2, 3, 4], events.Select(e => e.Track));   // in order, each once

        // Read back directly, not through the proxy: every acknowledged person is there once, with the sightings it reported.
        var check = PostgresGalleryStore.Open(db);
        var people = check.ListIdentities();
        Assert.Equal(["person-0001", "person-0002", "person-0003", "person-0004"], people.Select(p => p.Name).Order());
        foreach (var e in events)
            Assert.Equal(e.SightingsStored, check.GetSightings(e.IdentityId).Count);
    }

    [StoreFact]
    public void A_lease_call_to_a_database_that_does_not_answer_fails_well_within_the_lease()
    {
        var db = cluster.NewDatabase();
        using var proxy = new TcpProxy(PortOf(db));
        var store = PostgresGalleryStore.Open(proxy.Through(db));   // Npgsql's defaults: 15 s to connect, 30 s a command
        var leases = store.Leases("worker-a", TimeSpan.FromSeconds(10));
        leases.Register([new LeasedCamera("cam1", "rtsp://cam1/stream")]);
        Assert.Single(leases.Claim(1));

        proxy.Silence();   // connections are accepted and never answered
        var clock = Stopwatch.StartNew();
        Assert.Throws<ReidException>(() => leases.Renew());
        // bounded by a tenth of the lease per connect and per command, so the worker can stop its cameras in time
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"a renewal against a silent database took {clock.Elapsed.TotalSeconds:0.0} s");

        proxy.Restore();
        Npgsql.NpgsqlConnection.ClearAllPools();
        Assert.Equal(["cam1"], leases.Renew().Select(c => c.Camera));   // still this worker's: nobody took it meanwhile
    }
}
