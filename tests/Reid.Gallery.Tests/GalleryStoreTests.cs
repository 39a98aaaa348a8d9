using Reid.Core;
using Reid.Gallery;
using Reid.Imaging;
using Reid.TestSupport;

namespace Reid.Gallery.Tests;

/// <summary>
/// The store contract, run against every store (SQLite and PostgreSQL): each derived class says how to make a new
/// empty gallery and how to open another handle on it (another node).
/// </summary>
public abstract class GalleryStoreTests
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

    [StoreFact]
    public void A_sightings_box_is_stored_and_read_back_and_no_box_stays_none()
    {
        var store = NewStore();
        var boxed = Sighting(Unit(8, 1)) with { Origin = new SightingSource("c1", null, "v.mp4", 12, 0.48, new BoundingBox(30.5f, 20.25f, 24, 48)) };
        var id = store.CreateIdentity("Boxed", null, [boxed, Sighting(Unit(8, 2))], "m1", "test");
        var sightings = store.GetSightings(id);
        Assert.Equal(new BoundingBox(30.5f, 20.25f, 24, 48), sightings[0].Origin.Box);
        Assert.Equal(12, sightings[0].Origin.Frame);
        Assert.Null(sightings[1].Origin.Box);
    }

    /// <summary>A new empty gallery; returns what <see cref="Open"/> needs to reach it.</summary>
    protected abstract string NewGallery();

    /// <summary>A new store handle on <paramref name="gallery"/> (as another node would open it).</summary>
    protected abstract IGalleryStore Open(string gallery);

    protected IGalleryStore NewStore() => Open(NewGallery());

    [StoreFact]
    public void Enrol_then_read_back_identity_sightings_crops_and_embeddings()
    {
        var gallery = NewGallery();
        var store = Open(gallery);
        var version = store.SchemaVersion;
        Assert.True(version >= 1);
        var id = store.CreateIdentity("Ada", """{"badge":7}""", [Sighting(Unit(8, 1)), Sighting(Unit(8, 2), "c2")], "m1", "test");
        var identity = store.GetIdentity(id)!;
        Assert.Equal("Ada", identity.Name);
        Assert.Equal(2, identity.SightingCount);
        Assert.Contains("badge", identity.MetadataJson);
        var sightings = store.GetSightings(id);
        Assert.Equal(["c1", "c2"], sightings.Select(s => s.Origin.Camera));
        Assert.Equal(DateTimeOffset.UnixEpoch, sightings[0].Origin.CapturedAt);
        Assert.Equal(sightings.Select(s => s.Id), store.GetSightingsById(sightings.Select(s => s.Id).ToArray()).Select(s => s.Id));
        Assert.Equal(new byte[] { 0xFF, 0xD8, 0xFF, 0xD9 }, store.GetCrop(sightings[0].Id));
        var embeddings = store.ReadEmbeddings("m1").ToList();
        Assert.Equal(2, embeddings.Count);
        Assert.Equal(Unit(8, 1), embeddings[0].Vector);
        Assert.Equal(id, embeddings[0].IdentityId);
        Assert.Empty(store.ReadEmbeddings("m1", embeddings[1].RowId));
        Assert.Empty(store.ReadEmbeddings("m2"));
        Assert.Empty(store.CheckConsistency());

        // Reopening keeps everything and does not re-run migrations.
        var again = Open(gallery);
        Assert.Equal(version, again.SchemaVersion);
        Assert.Single(again.ListIdentities());
    }

    [StoreFact]
    public void One_sighting_is_erased_with_its_crop_and_embedding_and_the_last_one_is_refused()
    {
        var gallery = NewGallery();
        var store = Open(gallery);
        var id = store.CreateIdentity("Ada", null, [Sighting(Unit(8, 1)), Sighting(Unit(8, 2)), Sighting(Unit(8, 3))], "m1", "test");
        var other = store.CreateIdentity("Bo", null, [Sighting(Unit(8, 4))], "m1", "test");
        var ids = store.GetSightings(id).Select(s => s.Id).ToArray();

        var removed = store.DeleteSighting(ids[1], "test", "blurred")!;
        Assert.Equal((ids[1], id, 2), (removed.SightingId, removed.IdentityId, removed.SightingsLeft));
        Assert.Equal([ids[0], ids[2]], store.GetSightings(id).Select(s => s.Id));
        Assert.Equal(2, store.GetIdentity(id)!.SightingCount);
        Assert.Null(store.GetCrop(ids[1]));
        Assert.DoesNotContain(store.ReadEmbeddings("m1"), e => e.SightingId == ids[1]);
        Assert.Equal(3, store.ReadEmbeddings("m1").Count());
        var audit = Assert.Single(Open(gallery).ReadAudit(action: SqlGalleryStore.DeleteSightingAction));
        Assert.Equal(id, audit.IdentityId);
        Assert.DoesNotContain("Ada", audit.Detail);
        Assert.Null(store.DeleteSighting(ids[1], "test"));      // already gone

        store.DeleteSighting(ids[0], "test");
        var last = Assert.Throws<LastSightingException>(() => store.DeleteSighting(ids[2], "test"));
        Assert.Contains("delete the identity instead", last.Message);
        Assert.Single(store.GetSightings(id));
        Assert.Throws<LastSightingException>(() => store.DeleteSighting(store.GetSightings(other)[0].Id, "test"));
        Assert.Empty(store.CheckConsistency());
    }

    [StoreFact]
    public void An_enrolment_that_fails_midway_stores_nothing()
    {
        var store = NewStore();
        var broken = Sighting(Unit(8, 2)) with { CropJpeg = null! }; // the second insert violates NOT NULL
        Assert.ThrowsAny<Exception>(() => store.CreateIdentity("Half", null, [Sighting(Unit(8, 1)), broken], "m1", "test"));
        Assert.Equal(0, store.CountIdentities());
        Assert.Empty(store.ReadEmbeddings("m1"));
        Assert.Empty(store.ReadAudit(action: "enrol"));
        Assert.Empty(store.CheckConsistency());
    }

    [StoreFact]
    public void Delete_erases_sightings_crops_embeddings_and_logs_without_the_name()
    {
        var store = NewStore();
        var keep = store.CreateIdentity("Keep", null, [Sighting(Unit(8, 3))], "m1", "test");
        var gone = store.CreateIdentity("Zelda Erasable", null, [Sighting(Unit(8, 4)), Sighting(Unit(8, 5))], "m1", "test");
        var goneSightings = store.GetSightings(gone);
        Assert.True(store.DeleteIdentity(gone, "operator", "subject request"));
        Assert.False(store.DeleteIdentity(gone, "operator"));
        Assert.Null(store.GetIdentity(gone));
        Assert.All(goneSightings, s => Assert.Null(store.GetCrop(s.Id)));
        Assert.Empty(store.GetSightingsById(goneSightings.Select(s => s.Id).ToArray()));
        Assert.Single(store.ReadEmbeddings("m1"));
        Assert.NotNull(store.GetIdentity(keep));
        var log = store.ReadAudit(action: "delete").Single();
        Assert.Equal(gone, log.IdentityId);
        Assert.Equal("operator", log.Actor);
        Assert.Contains("2 sighting", log.Detail);
        Assert.Contains("subject request", log.Detail);
        Assert.DoesNotContain("Zelda", string.Join(" ", store.ReadAudit().Select(a => a.Detail)));
        Assert.Empty(store.CheckConsistency());
    }

    [StoreFact]
    public void Models_are_kept_apart_and_reembedding_fills_the_missing_ones()
    {
        var store = NewStore();
        var id = store.CreateIdentity("A", null, [Sighting(Unit(8, 1)), Sighting(Unit(8, 2))], "old", "test");
        var missing = store.SightingsMissingModel("new");
        Assert.Equal(2, missing.Count);
        Assert.Equal(2, store.PutEmbeddings("new", missing.Select(s => (s, Unit(4, (int)s))).ToList()));
        Assert.Equal(0, store.PutEmbeddings("new", [(999_999L, Unit(4, 1))])); // an erased sighting is skipped
        Assert.Empty(store.SightingsMissingModel("new"));
        Assert.All(store.ReadEmbeddings("new"), e => Assert.Equal(4, e.Vector.Length));
        Assert.Equal(new Dictionary<string, int> { ["old"] = 2, ["new"] = 2 }, store.EmbeddingCounts());
        // Replacing a vector gives it a new row id, so a reader following by row id sees the new one.
        var last = store.ReadEmbeddings("new").Max(e => e.RowId);
        store.PutEmbeddings("new", [(missing[0], Unit(4, 77))]);
        Assert.Equal(Unit(4, 77), store.ReadEmbeddings("new", last).Single().Vector);
        store.DeleteIdentity(id, "test");
        Assert.Empty(store.EmbeddingCounts());
    }

    [StoreFact]
    public void Empty_name_and_no_sightings_are_refused_and_store_nothing()
    {
        var store = NewStore();
        Assert.Throws<ReidException>(() => store.CreateIdentity(" ", null, [Sighting(Unit(8, 1))], "m", "t"));
        Assert.Throws<ReidException>(() => store.CreateIdentity("A", null, [], "m", "t"));
        Assert.Throws<IdentityNotFoundException>(() => store.AddSightings(12345, [Sighting(Unit(8, 1))], "m", "t"));
        Assert.Equal(0, store.CountIdentities());
        Assert.Empty(store.CheckConsistency());
    }

    [StoreFact]
    public void Listing_filters_names_case_insensitively_and_pages()
    {
        var store = NewStore();
        foreach (var n in new[] { "Alice Smith", "bob", "ALICE Jones", "100%_real" })
            store.CreateIdentity(n, null, [Sighting(Unit(8, n.Length))], "m", "t");
        Assert.Equal(["Alice Smith", "ALICE Jones"], store.ListIdentities("alice").Select(i => i.Name));
        Assert.Equal(["100%_real"], store.ListIdentities("%_").Select(i => i.Name));
        Assert.Equal(["bob", "ALICE Jones"], store.ListIdentities(offset: 1, limit: 2).Select(i => i.Name));
        Assert.Equal(4, store.CountIdentities());
        var renamed = store.ListIdentities("bob").Single().Id;
        Assert.True(store.RenameIdentity(renamed, "Robert", """{"k":1}""", "t"));
        Assert.Equal("Robert", store.GetIdentity(renamed)!.Name);
        Assert.False(store.RenameIdentity(99999, "x", null, "t"));
    }

    [StoreFact]
    public void Api_keys_are_stored_hashed_and_can_be_revoked()
    {
        var store = NewStore();
        var secret = store.CreateApiKey("ops", KeyRole.Write, "test");
        var reader = store.CreateApiKey("viewer", KeyRole.Read, "test");
        Assert.Equal(KeyRole.Write, store.FindApiKey(secret)!.Value.Role);
        Assert.Equal(KeyRole.Read, store.FindApiKey(reader)!.Value.Role);
        Assert.Null(store.FindApiKey(secret + "x"));
        Assert.Equal(["ops", "viewer"], store.ListApiKeys().Select(k => k.Label));
        Assert.True(store.RevokeApiKey(store.FindApiKey(secret)!.Value.Id, "test"));
        Assert.Null(store.FindApiKey(secret));
        Assert.True(store.ListApiKeys()[0].Revoked);
        Assert.Equal(2, store.ReadAudit(action: "key-create").Count);
    }

    [StoreFact]
    public void Thresholds_are_stored_per_model_and_replaced()
    {
        var store = NewStore();
        Assert.Null(store.GetThreshold("m"));
        store.SetThreshold(new Threshold("m", 0.61, 1e-3, "calibrate holdout-v1", DateTimeOffset.UtcNow), "test");
        Assert.Equal(0.61, store.GetThreshold("m")!.Score);
        store.SetThreshold(new Threshold("m", 0.55, null, "by hand", DateTimeOffset.UtcNow), "test");
        var t = store.GetThreshold("m")!;
        Assert.Equal((0.55, (double?)null, "by hand"), (t.Score, t.Far, t.Source));
        Assert.Null(store.GetThreshold("other"));
    }

    [StoreFact]
    public void Two_nodes_on_one_gallery_see_each_others_enrolments_and_erasures()
    {
        var gallery = NewGallery();
        var options = new GalleryOptions(UncalibratedThreshold: 0.8);
        var a = new GalleryService(Open(gallery), Fixtures.HistogramModel(), options);
        var b = new GalleryService(Open(gallery), Fixtures.HistogramModel(), options);
        var ann = a.Enrol("Ann", [Fixtures.PersonInput(0, 0), Fixtures.PersonInput(0, 1)]).Identity.Id;
        var ben = b.Enrol("Ben", [Fixtures.PersonInput(1, 0)]).Identity.Id;
        var seenByB = b.Identify([Fixtures.PersonInput(0, 5)]);
        Assert.False(seenByB.Unknown);
        Assert.Equal(ann, seenByB.Matches[0].Identity);
        Assert.Equal(ben, a.Identify([Fixtures.PersonInput(1, 5)]).Matches[0].Identity);
        Assert.True(b.Delete(ann, "test", "erasure on node b"));
        var afterErasure = a.Identify([Fixtures.PersonInput(0, 5)]);
        Assert.DoesNotContain(afterErasure.Matches, m => m.Identity == ann);
        Assert.Equal(1, a.Index.Count);
    }

    [StoreFact]
    public void A_reader_following_concurrent_writers_misses_no_embedding()
    {
        var gallery = NewGallery();
        var reader = new GalleryService(Open(gallery), Fixtures.HistogramModel("m"));
        var writers = Enumerable.Range(0, 3).Select(_ => Open(gallery)).ToArray();
        const int perWriter = 15;
        using var done = new CancellationTokenSource();
        var follow = Task.Run(() => { while (!done.IsCancellationRequested) reader.Sync(); });
        Parallel.For(0, writers.Length, new ParallelOptions { MaxDegreeOfParallelism = writers.Length }, w =>
        {
            for (var i = 0; i < perWriter; i++)
                writers[w].CreateIdentity($"w{w}-{i}", null, [Sighting(Unit(64, w * 1000 + i)), Sighting(Unit(64, w * 1000 + i + 500))], "m", "test");
        });
        done.Cancel();
        follow.Wait();
        reader.Sync();
        Assert.Equal(writers.Length * perWriter * 2, reader.Index.Count);
        Assert.Equal(writers.Length * perWriter, Open(gallery).CountIdentities());
    }
}

/// <summary>The contract on the embedded SQLite store, plus what only a file on disk can show.</summary>
public sealed class SqliteGalleryStoreTests : GalleryStoreTests, IDisposable
{
    private readonly List<TempDir> _dirs = [];

    protected override string NewGallery()
    {
        var d = new TempDir();
        _dirs.Add(d);
        return d.Path;
    }

    protected override IGalleryStore Open(string gallery) => GalleryStore.Open(gallery);

    public void Dispose() { foreach (var d in _dirs) d.Dispose(); }

    /// <summary>
    /// A process killed between two sightings of one enrolment (the worst moment) leaves what is on disk then: the
    /// store's in-transaction hook copies the gallery's files at that moment, and the copy must open consistent,
    /// without any part of the interrupted identity, and keep working. `reid gallery` processes killed at arbitrary
    /// moments are tested in CliTests.
    /// </summary>
    [Fact]
    public void A_crash_between_two_sightings_of_one_enrolment_leaves_the_gallery_as_it_was()
    {
        var store = GalleryStore.Open(NewGallery());
        store.CreateIdentity("keeper", null, [Sighting(Unit(8, 1)), Sighting(Unit(8, 2))], "m1", "test");
        var crashed = NewGallery();
        var copies = 0;
        store.SightingStoredInTransaction = _ =>
        {
            if (copies++ > 0) return;
            foreach (var file in Directory.EnumerateFiles(store.DataDirectory))
                File.Copy(file, Path.Combine(crashed, Path.GetFileName(file)), overwrite: true);
        };
        store.CreateIdentity("victim", null, [Sighting(Unit(8, 3)), Sighting(Unit(8, 4)), Sighting(Unit(8, 5))], "m1", "test");
        Assert.Equal(3, copies);
        Assert.Equal(2, store.CountIdentities());

        var after = GalleryStore.Open(crashed);
        Assert.Empty(after.CheckConsistency());
        Assert.Equal(["keeper"], after.ListIdentities().Select(i => i.Name));
        Assert.Equal(2, after.ListIdentities()[0].SightingCount);
        Assert.Equal(2, after.ReadEmbeddings("m1").Count());
        after.CreateIdentity("after", null, [Sighting(Unit(8, 6))], "m1", "test");
        Assert.Empty(after.CheckConsistency());
        Assert.Equal(3, after.ReadEmbeddings("m1").Count());
    }

    /// <summary>
    /// A gallery written by the previous schema (embeddings keyed by SQLite's reusable rowid) is migrated in place:
    /// nothing is lost, stored rows keep their numbers, and every later embedding gets a number above all of them.
    /// </summary>
    [Fact]
    public void A_schema_1_gallery_is_migrated_without_losing_embeddings_and_never_reuses_their_numbers()
    {
        var dir = NewGallery();
        var v1 = ((string[])typeof(SqliteGalleryStore).GetField("Migrations", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.GetValue(null)!)[0];
        var blob = new byte[8 * 4];
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dir, SqliteGalleryStore.DatabaseFileName)};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE schema_version(version INTEGER PRIMARY KEY, applied TEXT NOT NULL);" + v1 + """
                INSERT INTO schema_version VALUES (1, '2026-12-01T00:00:00Z');
                INSERT INTO identities(id, name, created) VALUES (1, 'Old Ada', '2026-12-01T00:00:00Z');
                INSERT INTO sightings(id, identity_id, crop, crop_width, crop_height, created) VALUES (1, 1, x'00', 1, 1, 'x'), (2, 1, x'00', 1, 1, 'x');
                INSERT INTO embeddings(rowid, sighting_id, model_id, dimension, vector) VALUES (5, 1, 'm1', 8, @v), (9, 2, 'm1', 8, @v);
                """;
            cmd.Parameters.AddWithValue("@v", blob);
            cmd.ExecuteNonQuery();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        var store = GalleryStore.Open(dir);
        Assert.Equal(2, store.SchemaVersion);
        Assert.Equal([5L, 9L], store.ReadEmbeddings("m1").Select(e => e.RowId));
        Assert.Equal("Old Ada", store.GetIdentity(1)!.Name);
        store.DeleteIdentity(1, "test");   // the highest numbers go: a plain rowid would hand them out again
        var id = store.CreateIdentity("New Bo", null, [Sighting(Unit(8, 5))], "m1", "test");
        var fresh = store.ReadEmbeddings("m1", afterRowId: 9).ToList();
        Assert.Single(fresh);
        Assert.Equal(id, fresh[0].IdentityId);
    }

    /// <summary>
    /// Galleries written when the stored box was a double-precision record keep their boxes: the columns did not
    /// change, and a value that is not exactly a float reads back as the nearest float.
    /// </summary>
    [Fact]
    public void A_box_stored_in_double_precision_by_an_earlier_version_reads_back()
    {
        var dir = NewGallery();
        var store = GalleryStore.Open(dir);
        var id = store.CreateIdentity("Old Ada", null, [Sighting(Unit(8, 1))], "m1", "test");
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={store.DatabasePath};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE sightings SET frame = 77, box_x = 10.1, box_y = 20.000000381469727, box_w = 24, box_h = 48.5";
            cmd.ExecuteNonQuery();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var origin = Assert.Single(GalleryStore.Open(dir).GetSightings(id)).Origin;
        Assert.Equal(77, origin.Frame);
        Assert.Equal(new BoundingBox(10.1f, 20f, 24f, 48.5f), origin.Box);
    }

    [Fact]
    public void Erased_names_and_key_secrets_are_not_left_in_the_database_file()
    {
        var store = GalleryStore.Open(NewGallery());
        var gone = store.CreateIdentity("Zelda Erasable", null, [Sighting(Unit(8, 4))], "m1", "test");
        var secret = store.CreateApiKey("ops", KeyRole.Write, "test");
        store.DeleteIdentity(gone, "operator");
        // secure_delete + checkpoint: the erased name is not left in the database file; keys are stored hashed.
        var bytes = File.ReadAllBytes(store.DatabasePath);
        Assert.Equal(-1, bytes.AsSpan().IndexOf("Zelda Erasable"u8));
        Assert.Equal(-1, bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(secret)));
    }
}

/// <summary>The contract on PostgreSQL (a throwaway cluster, one database per test).</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresGalleryStoreTests(PostgresCluster cluster) : GalleryStoreTests, INeedsPostgres
{
    protected override string NewGallery() => cluster.NewDatabase();

    protected override IGalleryStore Open(string gallery) => PostgresGalleryStore.Open(gallery);

    [StoreFact]
    public void Key_secrets_are_stored_only_as_hashes()
    {
        var cs = NewGallery();
        var store = PostgresGalleryStore.Open(cs);
        var secret = store.CreateApiKey("ops", KeyRole.Write, "test");
        using var c = new Npgsql.NpgsqlConnection(cs);
        c.Open();
        using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM api_keys WHERE hash = @s OR label = @s", c);
        cmd.Parameters.AddWithValue("s", secret);
        Assert.Equal(0L, (long)cmd.ExecuteScalar()!);
        Assert.Equal(64, ((string)new Npgsql.NpgsqlCommand("SELECT hash FROM api_keys", c).ExecuteScalar()!).Length);
    }

    [Fact]
    public void An_unreachable_database_is_one_clear_error()
    {
        var port = FreePort();
        var e = Assert.Throws<ReidException>(() => PostgresGalleryStore.Open($"Host=127.0.0.1;Port={port};Database=x;Username=u;Password=hunter2;Timeout=5"));
        Assert.Contains($"127.0.0.1:{port}/x", e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
        Assert.Throws<ReidException>(() => PostgresGalleryStore.Open("Hots=oops"));
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }
}
