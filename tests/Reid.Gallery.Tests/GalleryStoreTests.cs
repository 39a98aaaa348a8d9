using Reid.Core;
using Reid.Gallery;
using Reid.TestSupport;

namespace Reid.Gallery.Tests;

public class GalleryStoreTests
{
    internal static NewSighting Sighting(float[] v, string camera = "c1") =>
        new([0xFF, 0xD8, 0xFF, 0xD9], 64, 128, new SightingSource(camera, DateTimeOffset.UnixEpoch, "test.jpg"), v);

    internal static float[] Unit(int d, int seed)
    {
        var r = new Random(seed);
        var v = new float[d];
        for (var i = 0; i < d; i++) v[i] = (float)(r.NextDouble() * 2 - 1);
        var n = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }

    [Fact]
    public void Enrol_then_read_back_identity_sightings_crops_and_embeddings()
    {
        using var dir = new TempDir();
        var store = GalleryStore.Open(dir.Path);
        Assert.Equal(1, store.SchemaVersion);
        var id = store.CreateIdentity("Ada", """{"badge":7}""", [Sighting(Unit(8, 1)), Sighting(Unit(8, 2), "c2")], "m1", "test");
        var identity = store.GetIdentity(id)!;
        Assert.Equal("Ada", identity.Name);
        Assert.Equal(2, identity.SightingCount);
        Assert.Contains("badge", identity.MetadataJson);
        var sightings = store.GetSightings(id);
        Assert.Equal(["c1", "c2"], sightings.Select(s => s.Origin.Camera));
        Assert.Equal(new byte[] { 0xFF, 0xD8, 0xFF, 0xD9 }, store.GetCrop(sightings[0].Id));
        var embeddings = store.ReadEmbeddings("m1").ToList();
        Assert.Equal(2, embeddings.Count);
        Assert.Equal(Unit(8, 1), embeddings[0].Vector);
        Assert.Empty(store.ReadEmbeddings("m2"));
        Assert.Empty(store.CheckConsistency());

        // Reopening keeps everything and does not re-run migrations.
        var again = GalleryStore.Open(dir.Path);
        Assert.Equal(1, again.SchemaVersion);
        Assert.Single(again.ListIdentities());
    }

    [Fact]
    public void Delete_erases_sightings_crops_embeddings_and_logs_without_the_name()
    {
        using var dir = new TempDir();
        var store = GalleryStore.Open(dir.Path);
        var keep = store.CreateIdentity("Keep", null, [Sighting(Unit(8, 3))], "m1", "test");
        var gone = store.CreateIdentity("Zelda Erasable", null, [Sighting(Unit(8, 4)), Sighting(Unit(8, 5))], "m1", "test");
        var goneSightings = store.GetSightings(gone);
        Assert.True(store.DeleteIdentity(gone, "operator", "subject request"));
        Assert.False(store.DeleteIdentity(gone, "operator"));
        Assert.Null(store.GetIdentity(gone));
        Assert.All(goneSightings, s => Assert.Null(store.GetCrop(s.Id)));
        Assert.Single(store.ReadEmbeddings("m1"));
        Assert.NotNull(store.GetIdentity(keep));
        var log = store.ReadAudit(action: "delete").Single();
        Assert.Equal(gone, log.IdentityId);
        Assert.Equal("operator", log.Actor);
        Assert.Contains("2 sighting", log.Detail);
        Assert.DoesNotContain("Zelda", string.Join(" ", store.ReadAudit().Select(a => a.Detail)));
        Assert.Empty(store.CheckConsistency());
        // secure_delete + checkpoint: the erased name is not left in the database file.
        var bytes = File.ReadAllBytes(store.DatabasePath);
        Assert.Equal(-1, bytes.AsSpan().IndexOf("Zelda Erasable"u8));
    }

    [Fact]
    public void Models_are_kept_apart_and_reembedding_fills_the_missing_ones()
    {
        using var dir = new TempDir();
        var store = GalleryStore.Open(dir.Path);
        var id = store.CreateIdentity("A", null, [Sighting(Unit(8, 1)), Sighting(Unit(8, 2))], "old", "test");
        var missing = store.SightingsMissingModel("new");
        Assert.Equal(2, missing.Count);
        store.PutEmbeddings("new", missing.Select(s => (s, Unit(4, (int)s))).ToList());
        Assert.Empty(store.SightingsMissingModel("new"));
        Assert.All(store.ReadEmbeddings("new"), e => Assert.Equal(4, e.Vector.Length));
        Assert.Equal(new Dictionary<string, int> { ["old"] = 2, ["new"] = 2 }, store.EmbeddingCounts());
        store.DeleteIdentity(id, "test");
        Assert.Empty(store.EmbeddingCounts());
    }

    [Fact]
    public void Empty_name_and_no_sightings_are_refused_and_store_nothing()
    {
        using var dir = new TempDir();
        var store = GalleryStore.Open(dir.Path);
        Assert.Throws<ReidException>(() => store.CreateIdentity(" ", null, [Sighting(Unit(8, 1))], "m", "t"));
        Assert.Throws<ReidException>(() => store.CreateIdentity("A", null, [], "m", "t"));
        Assert.Equal(0, store.CountIdentities());
        Assert.Empty(store.CheckConsistency());
    }

    [Fact]
    public void Api_keys_are_stored_hashed_and_can_be_revoked()
    {
        using var dir = new TempDir();
        var store = GalleryStore.Open(dir.Path);
        var secret = store.CreateApiKey("ops", KeyRole.Write, "test");
        var reader = store.CreateApiKey("viewer", KeyRole.Read, "test");
        Assert.Equal(KeyRole.Write, store.FindApiKey(secret)!.Value.Role);
        Assert.Equal(KeyRole.Read, store.FindApiKey(reader)!.Value.Role);
        Assert.Null(store.FindApiKey(secret + "x"));
        Assert.Equal(-1, File.ReadAllBytes(store.DatabasePath).AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(secret)));
        Assert.True(store.RevokeApiKey(store.FindApiKey(secret)!.Value.Id, "test"));
        Assert.Null(store.FindApiKey(secret));
    }

    [Fact]
    public void Thresholds_are_stored_per_model()
    {
        using var dir = new TempDir();
        var store = GalleryStore.Open(dir.Path);
        Assert.Null(store.GetThreshold("m"));
        store.SetThreshold(new Threshold("m", 0.61, 1e-3, "calibrate holdout-v1", DateTimeOffset.UtcNow), "test");
        Assert.Equal(0.61, store.GetThreshold("m")!.Score);
        Assert.Null(store.GetThreshold("other"));
    }
}
