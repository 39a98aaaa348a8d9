using Reid.Gallery.Video;
using Reid.TestSupport;
using Reid.Video.Streams;
using static Reid.Gallery.Tests.CameraNetworkTests;

namespace Reid.Gallery.Tests;

/// <summary>
/// Two `reid watch` workers on one PostgreSQL gallery, each with its own store connection, gallery index and
/// associator, deciding at the same moment about the same people seen on their two cameras.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SharedLedgerTests(PostgresCluster cluster) : INeedsPostgres, IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
    private readonly EmbeddingModel _model = Model();

    public void Dispose() => _model.Dispose();

    private static LiveTrack Report(string camera, int track, int person, long firstFrame) =>
        new(camera, Track(track, person, firstFrame, 20, 100 * track + person) with { Camera = camera }, true, T0);

    /// <summary>Worker A sees each of the 4 people on cam1, worker B on cam2, the two reports released together.</summary>
    private static (List<AssociationEvent> A, List<AssociationEvent> B) SeeEveryoneTwice(OnlineAssociator a, OnlineAssociator b)
    {
        var (ea, eb) = (new List<AssociationEvent>(), new List<AssociationEvent>());
        for (int person = 0; person < 4; person++)
        {
            using var go = new Barrier(2);
            int p = person;
            var ta = Task.Run(() => { go.SignalAndWait(); ea.Add(a.Handle(Report("cam1", p + 1, p, 1 + 100 * p))!); });
            var tb = Task.Run(() => { go.SignalAndWait(); eb.Add(b.Handle(Report("cam2", p + 1, p, 5 + 100 * p))!); });
            Task.WaitAll(ta, tb);
        }
        return (ea, eb);
    }

    // A gallery threshold nothing reaches: the only way to the other worker's person is its track in the ledger.
    private static readonly OnlineAssociatorOptions TracksOnly = new() { Threshold = 1.0 };

    [StoreFact]
    public void Two_workers_seeing_the_same_new_people_at_once_make_one_identity_each()
    {
        var db = cluster.NewDatabase();
        PostgresGalleryStore storeA = PostgresGalleryStore.Open(db), storeB = PostgresGalleryStore.Open(db);
        using var ledgerA = storeA.TrackLedger();
        using var ledgerB = storeB.TrackLedger();
        var a = new OnlineAssociator(new GalleryService(storeA, _model), TracksOnly, ledger: ledgerA);
        var b = new OnlineAssociator(new GalleryService(storeB, _model), TracksOnly, ledger: ledgerB);

        var (ea, eb) = SeeEveryoneTwice(a, b);

        var people = storeA.ListIdentities();
        Assert.Equal(4, people.Count);
        Assert.Equal(["person-0001", "person-0002", "person-0003", "person-0004"], people.Select(p => p.Name).Order());
        for (int p = 0; p < 4; p++)
        {
            // One of the two decided first and made the person; the other linked to it through the other camera's track.
            Assert.Equal(ea[p].IdentityId, eb[p].IdentityId);
            Assert.Equal([AssociationKinds.Link, AssociationKinds.NewIdentity], new[] { ea[p].Kind, eb[p].Kind }.Order());
        }
        Assert.All(people, p => Assert.Equal(8, p.SightingCount));
    }

    [StoreFact]
    public void Without_the_shared_ledger_the_same_workers_would_duplicate_every_person()
    {
        // The control for the test above: each worker deciding alone makes every person twice, with clashing names.
        var db = cluster.NewDatabase();
        PostgresGalleryStore storeA = PostgresGalleryStore.Open(db), storeB = PostgresGalleryStore.Open(db);
        var a = new OnlineAssociator(new GalleryService(storeA, _model), TracksOnly);
        var b = new OnlineAssociator(new GalleryService(storeB, _model), TracksOnly);

        SeeEveryoneTwice(a, b);

        var people = storeA.ListIdentities();
        Assert.Equal(8, people.Count);
        Assert.Equal(4, people.Select(p => p.Name).Distinct().Count());
    }

    [StoreFact]
    public void A_restarted_camera_on_another_worker_does_not_clash_with_the_old_runs_track_ids()
    {
        // Worker A saw person 0 as cam1 track 1, then died; worker B took cam1 over and its tracker starts at 1 again.
        var db = cluster.NewDatabase();
        PostgresGalleryStore storeA = PostgresGalleryStore.Open(db), storeB = PostgresGalleryStore.Open(db);
        using var ledgerA = storeA.TrackLedger();
        using var ledgerB = storeB.TrackLedger();
        var a = new OnlineAssociator(new GalleryService(storeA, _model), TracksOnly, ledger: ledgerA);
        var first = a.Handle(Report("cam1", 1, 0, 1))!;

        var b = new OnlineAssociator(new GalleryService(storeB, _model), TracksOnly, ledger: ledgerB);
        var again = b.Handle(Report("cam1", 1, 1, 300))!;   // another person, the same tracker id
        var onCam2 = b.Handle(Report("cam2", 1, 0, 320))!;  // person 0 again, linked through A's track

        Assert.Equal(AssociationKinds.NewIdentity, again.Kind);
        Assert.NotEqual(first.IdentityId, again.IdentityId);
        Assert.Equal(AssociationKinds.Link, onCam2.Kind);
        Assert.Equal(first.IdentityId, onCam2.IdentityId);
        Assert.Equal(2, ledgerB.Recent(0).Count(t => t.Camera == "cam1"));
    }
}
