using Reid.Gallery.Video;
using Reid.Imaging;
using Reid.SpatialTemporal;
using Reid.TestSupport;
using Reid.Video;
using Reid.Video.CrossCamera;
using Reid.Video.Streams;
using static Reid.Gallery.Tests.CameraNetworkTests;

namespace Reid.Gallery.Tests;

/// <summary>
/// The online associator against a real (SQLite) gallery with the colour-histogram "ReID model" of
/// <see cref="CameraNetworkTests"/>: people differ by their clothes, tracks arrive one at a time as from live cameras.
/// </summary>
public sealed class OnlineAssociatorTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDir _dir = new();
    private readonly EmbeddingModel _model = Model();

    public void Dispose()
    {
        _model.Dispose();
        _dir.Dispose();
    }

    private GalleryService Gallery() => new(GalleryStore.Open(_dir.Path), _model);

    /// <summary>A report of <paramref name="person"/> on <paramref name="camera"/>: frames from <paramref name="firstFrame"/> at 10 fps, times from T0.</summary>
    private static LiveTrack Report(string camera, int track, int person, long firstFrame, int frames, int seed, bool final = true) =>
        new(camera, Track(track, person, firstFrame, frames, seed) with { Camera = camera }, final, T0);

    [Fact]
    public void A_stranger_becomes_a_new_identity_with_its_crops_stored()
    {
        var gallery = Gallery();
        var a = new OnlineAssociator(gallery);
        var e = a.Handle(Report("cam1", 1, 0, 1, 20, 100))!;
        Assert.Equal(AssociationKinds.NewIdentity, e.Kind);
        Assert.Equal("person-0001", e.Name);
        Assert.Null(e.Score);
        Assert.Equal(4, e.SightingsStored);
        var stored = gallery.Store.GetSightings(e.IdentityId);
        Assert.Equal(4, stored.Count);
        Assert.All(stored, s => Assert.Equal("cam1", s.Origin.Camera));
        Assert.Equal(T0.AddSeconds(1.9), stored.Max(s => s.Origin.CapturedAt));
        Assert.Equal("cam1 track 1", stored[0].Origin.Source);
    }

    [Fact]
    public void An_enrolled_person_is_a_known_sighting()
    {
        var gallery = Gallery();
        var alice = gallery.EnrolCrops("alice", [new CropInput(Crop(2, 0), new SightingSource(Camera: "desk")), new CropInput(Crop(2, 1), new SightingSource(Camera: "desk"))]);
        var a = new OnlineAssociator(gallery);
        var e = a.Handle(Report("cam1", 1, 2, 1, 20, 300))!;
        Assert.Equal(AssociationKinds.KnownSighting, e.Kind);
        Assert.Equal(alice.Identity.Id, e.IdentityId);
        Assert.InRange(e.Score!.Value, 0.8, 1.0);
        Assert.Equal(6, gallery.Store.GetSightings(alice.Identity.Id).Count);
        Assert.Single(gallery.List());
    }

    [Theory]
    [InlineData(null)]   // through the gallery, where the first camera's track was stored
    [InlineData(1.0)]    // a gallery threshold nothing reaches: through the other camera's recent track
    public void The_same_person_on_another_camera_is_linked(double? threshold)
    {
        var gallery = Gallery();
        var a = new OnlineAssociator(gallery, new OnlineAssociatorOptions { Threshold = threshold });
        var first = a.Handle(Report("cam1", 1, 0, 1, 20, 100))!;
        var other = a.Handle(Report("cam1", 2, 1, 30, 20, 200))!;
        var later = a.Handle(Report("cam2", 1, 0, 100, 20, 300))!;
        Assert.Equal(AssociationKinds.Link, later.Kind);
        Assert.Equal(first.IdentityId, later.IdentityId);
        Assert.Equal(("cam1", 1), (later.LinkedCamera, later.LinkedTrack));
        Assert.NotEqual(first.IdentityId, other.IdentityId);
        Assert.Equal(2, gallery.List().Count);
        Assert.Equal(8, gallery.Store.GetSightings(first.IdentityId).Count);
    }

    [Fact]
    public void Two_tracks_of_one_camera_that_overlap_in_time_are_never_one_person()
    {
        var gallery = Gallery();
        var a = new OnlineAssociator(gallery);
        // The same clothes twice in one view at once: two people, however alike.
        var one = a.Handle(Report("cam1", 1, 0, 1, 30, 100))!;
        var two = a.Handle(Report("cam1", 2, 0, 10, 30, 200))!;
        Assert.Equal(AssociationKinds.NewIdentity, two.Kind);
        Assert.NotEqual(one.IdentityId, two.IdentityId);
        // After the first has left, the same camera may see that person again.
        var again = a.Handle(Report("cam1", 3, 0, 200, 20, 300))!;
        Assert.Contains(again.IdentityId, new[] { one.IdentityId, two.IdentityId });
        Assert.Equal(AssociationKinds.Sighting, again.Kind);
    }

    [Fact]
    public void Interim_reports_and_the_final_one_make_one_identity_and_store_only_newer_crops()
    {
        var gallery = Gallery();
        var a = new OnlineAssociator(gallery);
        var e = a.Handle(Report("cam1", 7, 3, 1, 20, 100, final: false))!;
        Assert.Equal(AssociationKinds.NewIdentity, e.Kind);
        Assert.False(e.Final);
        Assert.Null(a.Handle(Report("cam1", 7, 3, 1, 20, 100, final: false)));   // nothing new since
        Assert.Null(a.Handle(Report("cam1", 7, 3, 1, 40, 100, final: true)));    // crops at frames 27 and 40 are new
        Assert.Single(gallery.List());
        Assert.Equal(6, gallery.Store.GetSightings(e.IdentityId).Count);
        // The track id is free again once final: a later track 7 (a tracker restarted) is decided afresh.
        Assert.NotNull(a.Handle(Report("cam1", 7, 1, 500, 20, 900)));
    }

    [Fact]
    public void A_restart_continues_the_numbering_and_knows_the_people_already_stored()
    {
        var gallery = Gallery();
        gallery.EnrolCrops("person-0009", [new CropInput(Crop(3, 0), new SightingSource(Camera: "old"))]);
        var first = new OnlineAssociator(gallery);
        var red = first.Handle(Report("cam1", 1, 0, 1, 20, 100))!;
        Assert.Equal("person-0010", red.Name);

        var restarted = new OnlineAssociator(Gallery());
        Assert.Equal(11, restarted.NextNumber);
        var again = restarted.Handle(Report("cam2", 1, 0, 1, 20, 500))!;
        Assert.Equal(red.IdentityId, again.IdentityId);
        Assert.Equal(AssociationKinds.Sighting, again.Kind);   // anonymous, and no other camera's track in memory
        Assert.Equal("person-0011", restarted.Handle(Report("cam2", 2, 1, 1, 20, 600))!.Name);
    }

    [Fact]
    public void A_travel_time_model_vetoes_a_link_it_rules_out()
    {
        // Learned: people take about 60 s from cam1 to cam2; a track on cam2 5 s after cam1 cannot be the same person.
        var learned = Enumerable.Range(0, 20).SelectMany(p => new[]
            { new LabelledSighting(p, "cam1", 1000 * p), new LabelledSighting(p, "cam2", 1000 * p + 60 + p % 5) }).ToList();
        var gate = SpatialTemporalGate.CanBeSame(SpatialTemporalModel.Learn(learned, new SpatialTemporalOptions { SmoothingSeconds = 8 }));
        var gallery = Gallery();
        var a = new OnlineAssociator(gallery, null, gate);
        var first = a.Handle(Report("cam1", 1, 0, 1, 20, 100))!;
        var tooSoon = a.Handle(Report("cam2", 1, 0, 51, 20, 300))!;
        Assert.Equal(AssociationKinds.NewIdentity, tooSoon.Kind);
        var onTime = a.Handle(Report("cam2", 2, 0, 620, 20, 400))!;
        Assert.Equal(first.IdentityId, onTime.IdentityId);
        Assert.Equal(AssociationKinds.Link, onTime.Kind);
    }

    [Fact]
    public void Several_cameras_at_once_get_one_identity_each_person()
    {
        var gallery = Gallery();
        var a = new OnlineAssociator(gallery);
        // Four cameras, each seeing the four people one after the other, all reporting at the same time.
        var events = new System.Collections.Concurrent.ConcurrentBag<AssociationEvent>();
        Parallel.For(0, 4, cam =>
        {
            for (int p = 0; p < 4; p++)
                events.Add(a.Handle(Report($"cam{cam}", p + 1, p, 1 + 100 * p, 20, 1000 * cam + 10 * p))!);
        });
        Assert.Equal(16, events.Count);
        Assert.Equal(4, gallery.List().Count);
        Assert.Equal(4, events.Count(e => e.Kind == AssociationKinds.NewIdentity));
        Assert.Equal(["person-0001", "person-0002", "person-0003", "person-0004"], gallery.List().Select(i => i.Name).Order());
    }
}
