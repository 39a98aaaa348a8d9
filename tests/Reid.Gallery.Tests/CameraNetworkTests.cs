using Reid.Core;
using Reid.Gallery.Video;
using Reid.Imaging;
using Reid.SpatialTemporal;
using Reid.TestSupport;
using Reid.Video;
using Reid.Video.CrossCamera;
using Reid.Video.Tracking;

namespace Reid.Gallery.Tests;

/// <summary>
/// Global identities against a real (SQLite) gallery with a colour-histogram "ReID model": synthetic people
/// whose crops differ by their clothes' colours, so same/different is decidable without an ONNX model.
/// </summary>
public class CameraNetworkTests
{
    private static readonly (byte, byte, byte)[][] Clothes =
    [
        [(220, 30, 30), (30, 30, 200)], [(30, 200, 40), (240, 240, 240)], [(250, 220, 20), (20, 20, 20)], [(120, 40, 160), (200, 120, 30)],
    ];

    internal static RgbImage Crop(int person, int shot)
    {
        var rng = new Random(person * 7919 + shot);
        var px = new byte[3 * 24 * 48];
        for (int y = 0; y < 48; y++)
        for (int x = 0; x < 24; x++)
        {
            var (r, g, b) = Clothes[person][y < 24 ? 0 : 1];
            int i = 3 * (y * 24 + x);
            px[i] = Jitter(r, rng); px[i + 1] = Jitter(g, rng); px[i + 2] = Jitter(b, rng);
        }
        return new RgbImage(24, 48, px);
    }

    private static byte Jitter(byte v, Random rng) => (byte)Math.Clamp(v + rng.Next(-15, 16), 0, 255);

    /// <summary>A 27-bin colour histogram (3 levels a channel), square-rooted and L2-normalised.</summary>
    private static float[] Histogram(RgbImage image)
    {
        var h = new float[27];
        var p = image.Pixels;
        for (int i = 0; i < p.Length; i += 3) h[p[i] / 86 * 9 + p[i + 1] / 86 * 3 + p[i + 2] / 86]++;
        for (int i = 0; i < h.Length; i++) h[i] = MathF.Sqrt(h[i]);
        Embeddings.Normalise(h);
        return h;
    }

    internal static EmbeddingModel Model() => new("histogram-27", 27, crops => crops.Select(Histogram).ToArray());

    /// <summary>Person <paramref name="person"/> seen at 10 fps from <paramref name="firstFrame"/> for <paramref name="frames"/> frames, 4 crops.</summary>
    internal static PersonTrack Track(int id, int person, long firstFrame, int frames, int shotSeed)
    {
        var obs = Enumerable.Range(0, frames).Select(k => new TrackObservation(firstFrame + k, (firstFrame + k - 1) / 10.0,
            new BoundingBox(10 + k, 20, 24, 48), 0.9f, 0)).ToList();
        var crops = Enumerable.Range(0, 4).Select(k => new TrackCrop(obs[k * (frames - 1) / 3], Crop(person, shotSeed + k))).ToList();
        return new PersonTrack(id, null, obs, crops, Embeddings.Mean(crops.Select(c => Histogram(c.Image)).ToList()), crops.Count);
    }

    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    private static List<CameraRun> TwoCameras(int shotSeed) =>
    [
        new(new CameraVideo("cam1", "/videos/cam1.mp4", T0), [Track(1, 0, 1, 20, shotSeed), Track(2, 1, 30, 21, shotSeed + 10)]),
        new(new CameraVideo("cam2", "/videos/cam2.mp4", T0.AddMinutes(1)), [Track(1, 2, 1, 20, shotSeed + 20), Track(2, 0, 100, 21, shotSeed + 30)]),
    ];

    [Fact]
    public void First_run_creates_people_across_cameras_and_a_second_run_re_identifies_them()
    {
        using var dir = new TempDir();
        using var model = Model();
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), model);
        gallery.EnrolCrops("person-0009", [new CropInput(Crop(3, 0), new SightingSource(Camera: "old"))]);

        var first = CameraNetwork.Identify(TwoCameras(100), gallery);
        Assert.Equal(3, first.Count);
        Assert.All(first, p => Assert.True(p.IsNew));
        Assert.Equal(["person-0010", "person-0011", "person-0012"], first.Select(p => p.Name).Order());
        var red = Assert.Single(first, p => p.Tracks.Count == 2);     // person 0 walked from cam1 to cam2
        Assert.Equal([("cam1", 1), ("cam2", 2)], red.Tracks.Select(t => (t.Camera, t.TrackId)));
        Assert.Equal(8, red.StoredSightings);

        var stored = gallery.Store.GetSightings(red.IdentityId);
        Assert.Equal(8, stored.Count);
        var late = Assert.Single(stored, s => s.Origin.Camera == "cam2" && s.Origin.Frame == 120);
        Assert.Equal("cam2.mp4", late.Origin.Source);
        Assert.Equal(11.9, late.Origin.SourceTime!.Value, 6);
        Assert.Equal(T0.AddMinutes(1).AddSeconds(11.9), late.Origin.CapturedAt);
        Assert.Equal(new BoundingBox(30, 20, 24, 48), late.Origin.Box);
        Assert.Equal(4, gallery.List().Count);

        var second = CameraNetwork.Identify(TwoCameras(500), gallery);   // same people, other noise
        Assert.Equal(3, second.Count);
        Assert.All(second, p => Assert.False(p.IsNew));
        Assert.All(second, p => Assert.InRange(p.Score!.Value, 0.7, 1.0));
        Assert.Equal(first.Select(p => (p.Name, p.IdentityId)).Order(), second.Select(p => (p.Name, p.IdentityId)).Order());
        Assert.Equal(4, gallery.List().Count);
        Assert.Equal(16, gallery.Store.GetSightings(red.IdentityId).Count);
    }

    [Fact]
    public void A_travel_time_model_keeps_apart_tracks_it_rules_out()
    {
        // Learned: people take about 60 s from cam1 to cam2.
        var learned = Enumerable.Range(0, 20).SelectMany(p => new[]
            { new LabelledSighting(p, "cam1", 1000 * p), new LabelledSighting(p, "cam2", 1000 * p + 60 + p % 5) }).ToList();
        var st = SpatialTemporalModel.Learn(learned, new SpatialTemporalOptions { SmoothingSeconds = 8 });
        var gate = SpatialTemporalGate.CanBeSame(st);

        PersonTrack A(int id, int seed) => Track(id, 0, 1, 20, seed);
        CameraRun Run(string cam, double offsetSeconds, int seed) => new(new CameraVideo(cam, cam + ".mp4", T0.AddSeconds(offsetSeconds)), [A(1, seed)]);

        using var dir = new TempDir();
        using var model = Model();
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), model);
        var plausible = CameraNetwork.Identify([Run("cam1", 0, 1), Run("cam2", 61, 2)], gallery, canBeSame: gate);
        Assert.Single(plausible);

        using var dir2 = new TempDir();
        var gallery2 = new GalleryService(GalleryStore.Open(dir2.Path), model);
        var ruledOut = CameraNetwork.Identify([Run("cam1", 0, 1), Run("cam2", 3000, 2)], gallery2, canBeSame: gate);
        Assert.Equal(2, ruledOut.Count);
        using var dir3 = new TempDir();
        var withoutModel = CameraNetwork.Identify([Run("cam1", 0, 1), Run("cam2", 3000, 2)], new GalleryService(GalleryStore.Open(dir3.Path), model));
        Assert.Single(withoutModel);   // appearance alone joins them
    }

    [Fact]
    public void Tracks_of_another_model_are_refused_before_anything_is_stored()
    {
        using var dir = new TempDir();
        using var model = new EmbeddingModel("other", 5, crops => crops.Select(_ => new float[] { 1, 0, 0, 0, 0 }).ToArray());
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), model);
        var e = Assert.Throws<ReidException>(() => CameraNetwork.Identify(TwoCameras(1), gallery));
        Assert.Contains("same ReID model", e.Message);
        Assert.Empty(gallery.List());
    }
}
