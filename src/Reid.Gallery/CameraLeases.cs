using Npgsql;
using Reid.Core;

namespace Reid.Gallery;

/// <summary>A camera and the URL its worker opens.</summary>
public sealed record LeasedCamera(string Camera, string Url);

/// <summary>
/// Cameras shared by several `reid watch` workers through the gallery's PostgreSQL database, the only shared
/// component: a worker claims free or expired cameras with row locks (`FOR UPDATE SKIP LOCKED`, so two workers never
/// claim one camera at once and neither waits for the other), keeps them by renewing the lease before it expires, and
/// must stop a camera as soon as a renewal no longer returns it. A worker that dies (SIGKILL) stops renewing; its
/// cameras are free once their leases expire. Expiry is judged by the database's clock, so workers' clocks may differ.
/// </summary>
public sealed class CameraLeases
{
    private readonly Func<NpgsqlConnection> _connect;

    public string Worker { get; }
    public TimeSpan Ttl { get; }

    /// <param name="connect">opens a connection to the gallery's database (the store's, with its error messages)</param>
    internal CameraLeases(Func<NpgsqlConnection> connect, string worker, TimeSpan ttl)
    {
        if (string.IsNullOrWhiteSpace(worker)) throw new ReidException("a worker needs a name to hold camera leases");
        if (ttl < TimeSpan.FromSeconds(1)) throw new ReidException($"lease time {ttl.TotalSeconds} s is too short: at least 1 s");
        (_connect, Worker, Ttl) = (connect, worker, ttl);
    }

    /// <summary>Adds cameras to the shared set (a camera already there keeps its lease; its URL is updated).</summary>
    public void Register(IEnumerable<LeasedCamera> cameras) => InTransaction((c, tx) =>
    {
        foreach (var cam in cameras)
            Exec(c, tx, "INSERT INTO camera_leases(camera, url) VALUES (@c, @u) ON CONFLICT (camera) DO UPDATE SET url = EXCLUDED.url",
                ("c", cam.Camera), ("u", cam.Url));
        return 0;
    });

    /// <summary>Claims up to <paramref name="max"/> cameras nobody holds (or whose holder stopped renewing); returns those
    /// newly claimed. Cameras this worker holds already are not returned again.</summary>
    public IReadOnlyList<LeasedCamera> Claim(int max) => max <= 0 ? [] : InTransaction((c, tx) =>
    {
        var free = Query(c, tx, """
            SELECT camera, url FROM camera_leases
            WHERE owner IS NULL OR expires_at < now()
            ORDER BY camera LIMIT @max FOR UPDATE SKIP LOCKED
            """, ("max", max));
        foreach (var cam in free)
            Exec(c, tx, "UPDATE camera_leases SET owner = @w, expires_at = now() + @ttl, claimed_at = now() WHERE camera = @c",
                ("w", Worker), ("ttl", Ttl), ("c", cam.Camera));
        return free;
    });

    /// <summary>Extends this worker's leases; returns the cameras it still holds. A camera missing from the answer was
    /// taken over after this worker's lease expired: stop processing it at once. A lease that lapsed while nobody took
    /// the camera (the database was away for a while) is still this worker's and is renewed: a claim and a renewal of
    /// one row are serialised by its row lock, so exactly one of them wins.</summary>
    public IReadOnlyList<LeasedCamera> Renew() => InTransaction((c, tx) =>
        Query(c, tx, """
            UPDATE camera_leases SET expires_at = now() + @ttl
            WHERE owner = @w
            RETURNING camera, url
            """, ("ttl", Ttl), ("w", Worker))
        .OrderBy(h => h.Camera, StringComparer.Ordinal).ToList());

    /// <summary>Gives this worker's cameras back at once (a clean stop), so others need not wait for the leases to expire.</summary>
    public void Release(IEnumerable<string>? cameras = null) => InTransaction((c, tx) =>
    {
        if (cameras is null) Exec(c, tx, "UPDATE camera_leases SET owner = NULL, expires_at = NULL WHERE owner = @w", ("w", Worker));
        else
            foreach (var cam in cameras)
                Exec(c, tx, "UPDATE camera_leases SET owner = NULL, expires_at = NULL WHERE owner = @w AND camera = @c", ("w", Worker), ("c", cam));
        return 0;
    });

    /// <summary>Who holds each camera now (null: nobody, or the lease expired).</summary>
    public IReadOnlyDictionary<string, string?> Holders() => InTransaction((c, tx) =>
    {
        using var cmd = new NpgsqlCommand("SELECT camera, CASE WHEN expires_at >= now() THEN owner END FROM camera_leases", c, tx);
        using var r = cmd.ExecuteReader();
        var holders = new Dictionary<string, string?>(StringComparer.Ordinal);
        while (r.Read()) holders[r.GetString(0)] = r.IsDBNull(1) ? null : r.GetString(1);
        return holders;
    });

    /// <summary>One lease operation in a transaction of its own. A database that fails mid-way (restarted, cut off) is a
    /// <see cref="ReidException"/>, like one that cannot be reached: the caller's answer to both is the same.</summary>
    private T InTransaction<T>(Func<NpgsqlConnection, NpgsqlTransaction, T> body)
    {
        using var c = Connect();
        try
        {
            using var tx = c.BeginTransaction();
            var result = body(c, tx);
            tx.Commit();
            return result;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            throw new ReidException($"camera leases: {e.Message}", e);
        }
    }

    private NpgsqlConnection Connect() => _connect();

    private static void Exec(NpgsqlConnection c, NpgsqlTransaction tx, string sql, params (string Name, object Value)[] args)
    {
        using var cmd = new NpgsqlCommand(sql, c, tx);
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v);
        cmd.ExecuteNonQuery();
    }

    private static List<LeasedCamera> Query(NpgsqlConnection c, NpgsqlTransaction tx, string sql, params (string Name, object Value)[] args)
    {
        using var cmd = new NpgsqlCommand(sql, c, tx);
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v);
        using var r = cmd.ExecuteReader();
        var list = new List<LeasedCamera>();
        while (r.Read()) list.Add(new LeasedCamera(r.GetString(0), r.GetString(1)));
        return list;
    }
}
