using Reid.Gallery;
using Reid.TestSupport;

namespace Reid.Gallery.Tests;

/// <summary>`reid gallery … --database` as a user runs it, against the throwaway cluster.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresCliTests(PostgresCluster cluster) : INeedsPostgres
{
    private static ReidCli.Outcome Run(params string[] args) => ReidCli.Run(args, env: null, TimeSpan.FromMinutes(2));

    [StoreFact]
    public void Keys_and_listing_work_on_a_postgres_gallery()
    {
        var db = cluster.NewDatabase();
        var add = Run("gallery", "keys", "add", "--database", db, "--role", "write", "--label", "node-a");
        Assert.True(add.ExitCode == 0, add.Stderr);
        var secret = add.Stdout.Trim();
        var store = PostgresGalleryStore.Open(db);
        Assert.Equal(KeyRole.Write, store.FindApiKey(secret)!.Value.Role);
        store.CreateIdentity("Ada", null, [GalleryStoreTests.Sighting(GalleryStoreTests.Unit(8, 1))], "m", "test");
        var list = Run("gallery", "list", "--database", db);
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Contains("Ada", list.Stdout);
        Assert.Contains("1 identities", list.Stdout);
    }

    [StoreFact]
    public void A_second_node_of_a_shared_gallery_gets_a_key_of_its_own()
    {
        var db = cluster.NewDatabase();
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        var first = Reid.Server.ApiKeys.EnsureAdminKey(PostgresGalleryStore.Open(db, dirA.Path));
        Assert.NotNull(first);
        // Node B shares the database, not node A's files: before, it said "as before" and pointed at a key file it did not have.
        var nodeB = PostgresGalleryStore.Open(db, dirB.Path);
        var second = Reid.Server.ApiKeys.EnsureAdminKey(nodeB);
        Assert.NotNull(second);
        Assert.NotEqual(first, second);
        Assert.Equal(KeyRole.Write, nodeB.FindApiKey(second!)!.Value.Role);
        Assert.Equal(KeyRole.Write, nodeB.FindApiKey(first!)!.Value.Role);
        var saved = Path.Combine(dirB.Path, Reid.Server.ApiKeys.AdminKeyFile);
        Assert.Equal(second, File.ReadAllText(saved).Trim());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(saved));
        Assert.Contains(nodeB.ListApiKeys(), k => k.Label.Contains("admin of node"));
        // Restarts of either node create nothing more.
        Assert.Null(Reid.Server.ApiKeys.EnsureAdminKey(PostgresGalleryStore.Open(db, dirB.Path)));
        Assert.Null(Reid.Server.ApiKeys.EnsureAdminKey(PostgresGalleryStore.Open(db, dirA.Path)));
        Assert.Equal(2, nodeB.ListApiKeys().Count);
    }

    [Fact]
    public void A_local_gallery_makes_its_admin_key_once()
    {
        using var dir = new TempDir();
        Assert.NotNull(Reid.Server.ApiKeys.EnsureAdminKey(GalleryStore.Open(dir.Path)));
        File.Delete(Path.Combine(dir.Path, Reid.Server.ApiKeys.AdminKeyFile));
        // One machine, one gallery: a removed key file is the operator's choice, not a reason to mint a new secret.
        Assert.Null(Reid.Server.ApiKeys.EnsureAdminKey(GalleryStore.Open(dir.Path)));
    }

    [Fact]
    public void An_unreachable_database_exits_1_with_one_line_and_no_gallery_named_exits_2()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        var r = Run("gallery", "list", "--database", $"Host=127.0.0.1;Port={port};Database=g;Username=u;Password=secret123;Timeout=5");
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("cannot connect to the gallery database", r.Stderr);
        Assert.DoesNotContain("secret123", r.Stderr);
        Assert.Equal(1, Run("gallery", "list", "--database", "Hots=x").ExitCode);
        var usage = Run("gallery", "list");
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("--database", usage.Stderr);
    }
}
