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
