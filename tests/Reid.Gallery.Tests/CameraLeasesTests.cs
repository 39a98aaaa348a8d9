using System.Collections.Concurrent;
using Reid.Gallery;
using Reid.TestSupport;

namespace Reid.Gallery.Tests;

/// <summary>Several `reid watch` workers sharing cameras through PostgreSQL leases, against the throwaway cluster.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CameraLeasesTests(PostgresCluster cluster) : INeedsPostgres
{
    private static LeasedCamera[] Cameras(int n) => Enumerable.Range(1, n).Select(i => new LeasedCamera($"cam{i}", $"rtsp://cam{i}/stream")).ToArray();

    [StoreFact]
    public void Workers_split_the_cameras_and_a_dead_workers_cameras_pass_to_another_once_its_lease_expires()
    {
        var store = PostgresGalleryStore.Open(cluster.NewDatabase());
        var a = store.Leases("worker-a", TimeSpan.FromSeconds(2));
        var b = store.Leases("worker-b", TimeSpan.FromSeconds(2));
        a.Register(Cameras(4));
        var heldByA = a.Claim(2);
        var heldByB = b.Claim(4);
        Assert.Equal(2, heldByA.Count);
        Assert.Equal(2, heldByB.Count);
        Assert.Empty(heldByA.Select(c => c.Camera).Intersect(heldByB.Select(c => c.Camera)));
        Assert.Empty(a.Claim(4));   // nothing left
        Assert.Equal(heldByA.Select(c => c.Camera).Order(), a.Renew().Select(c => c.Camera));

        // A is killed: it renews no more. Until its leases expire nobody else may take its cameras; then B does.
        Assert.Empty(b.Claim(4));
        Thread.Sleep(TimeSpan.FromSeconds(2.5));
        // B did not renew while it slept either, but nobody took its cameras meanwhile: they are still B's, and renewed
        Assert.Equal(heldByB.Select(c => c.Camera).Order(), b.Renew().Select(c => c.Camera));
        var taken = b.Claim(4);
        Assert.Equal(heldByA.Select(c => c.Camera).Order(), taken.Select(c => c.Camera).Order());
        Assert.All(store.Leases("observer", TimeSpan.FromSeconds(2)).Holders().Values, h => Assert.Equal("worker-b", h));
        // A comes back from a pause: its renewal returns nothing, so it stops rather than process cameras B now holds.
        Assert.Empty(a.Renew());
        Assert.All(taken, c => Assert.Equal($"rtsp://{c.Camera}/stream", c.Url));
    }

    [StoreFact]
    public void A_clean_stop_hands_the_cameras_over_at_once()
    {
        var store = PostgresGalleryStore.Open(cluster.NewDatabase());
        var a = store.Leases("worker-a", TimeSpan.FromMinutes(5));
        var b = store.Leases("worker-b", TimeSpan.FromMinutes(5));
        a.Register(Cameras(3));
        Assert.Equal(3, a.Claim(10).Count);
        Assert.Empty(b.Claim(10));
        a.Release(["cam2"]);
        Assert.Equal(["cam2"], b.Claim(10).Select(c => c.Camera));
        a.Release();
        Assert.Equal(["cam1", "cam3"], b.Claim(10).Select(c => c.Camera).Order());
        Assert.Empty(a.Renew());
    }

    [StoreFact]
    public void Many_workers_claiming_at_once_never_share_a_camera()
    {
        var store = PostgresGalleryStore.Open(cluster.NewDatabase());
        store.Leases("setup", TimeSpan.FromMinutes(1)).Register(Cameras(24));
        var claims = new ConcurrentBag<(string Worker, string Camera)>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, w =>
        {
            var leases = store.Leases($"worker-{w}", TimeSpan.FromMinutes(1));
            for (int round = 0; round < 4; round++)
                foreach (var c in leases.Claim(2)) claims.Add(($"worker-{w}", c.Camera));
        });
        Assert.Equal(24, claims.Count);
        Assert.Equal(24, claims.Select(c => c.Camera).Distinct().Count());
        var holders = store.Leases("observer", TimeSpan.FromMinutes(1)).Holders();
        Assert.All(claims, c => Assert.Equal(c.Worker, holders[c.Camera]));
    }
}
