using Npgsql;
using Reid.Core;
using Reid.Gallery.Video;

namespace Reid.Gallery;

/// <summary>
/// The track ledger of several `reid watch` workers sharing one PostgreSQL gallery (<see cref="ITrackLedger"/>): the
/// recent tracks are rows of `watch_tracks`, and a decision holds a session-level advisory lock. The lock lives on
/// this ledger's own connection, so a worker that dies (SIGKILL, lost network) releases it with its session, and the
/// gallery writes of the decision (on the store's connections) are committed before it is released. Decisions are
/// a few milliseconds of a track's seconds: serialising them across workers costs nothing a camera notices.
/// </summary>
public sealed class PostgresTrackLedger : ITrackLedger, IDisposable
{
    /// <summary>Key of the advisory lock one associator decision holds (distinct from the store's writer lock).</summary>
    private const long DecisionLockKey = 0x5245_4944_5741_5443; // "REIDWATC"

    private readonly Func<NpgsqlConnection> _connect;
    private readonly Lock _gate = new();
    private NpgsqlConnection? _connection;
    private int _puts;

    internal PostgresTrackLedger(Func<NpgsqlConnection> connect) => _connect = connect;

    public bool Shared => true;

    public IDisposable Decide()
    {
        _gate.Enter();
        try
        {
            Exec("SELECT pg_advisory_lock(@k)", ("k", DecisionLockKey));
            return new Releaser(this);
        }
        catch
        {
            _gate.Exit();
            throw;
        }
    }

    public IReadOnlyList<LedgerTrack> Recent(double since)
    {
        lock (_gate)
        {
            try
            {
                using var cmd = new NpgsqlCommand(
                    "SELECT run, camera, track, identity_id, name, start_s, end_s, embedding FROM watch_tracks WHERE end_s >= @since", Connection());
                cmd.Parameters.AddWithValue("since", since);
                using var r = cmd.ExecuteReader();
                var list = new List<LedgerTrack>();
                while (r.Read())
                    list.Add(new LedgerTrack(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetInt64(3), r.GetString(4),
                        r.GetDouble(5), r.GetDouble(6), Floats((byte[])r[7])));
                return list;
            }
            catch (NpgsqlException e) { throw Broken(e); }
        }
    }

    public void Put(LedgerTrack t)
    {
        lock (_gate)
        {
            Exec("""
                INSERT INTO watch_tracks(run, camera, track, identity_id, name, start_s, end_s, embedding)
                VALUES (@run, @cam, @track, @id, @name, @s, @e, @emb)
                ON CONFLICT (run, camera, track) DO UPDATE SET
                    identity_id = EXCLUDED.identity_id, name = EXCLUDED.name, start_s = EXCLUDED.start_s,
                    end_s = EXCLUDED.end_s, embedding = EXCLUDED.embedding
                """, ("run", t.Run), ("cam", t.Camera), ("track", t.Track), ("id", t.IdentityId), ("name", t.Name),
                ("s", t.Start), ("e", t.End), ("emb", Bytes(t.Embedding)));
            // Bounded table for a network that runs for months: old tracks cannot be linked to any more.
            if (++_puts % 256 == 0)
                Exec("DELETE FROM watch_tracks WHERE end_s < @old", ("old", t.End - LocalTrackLedger.ForgetAfterSeconds));
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _connection?.Dispose();
            _connection = null;
        }
    }

    private void Unlock()
    {
        try { Exec("SELECT pg_advisory_unlock(@k)", ("k", DecisionLockKey)); }
        catch (ReidException)
        {
            // The connection broke: its session, and the lock with it, are gone already. Start afresh next time.
            _connection?.Dispose();
            _connection = null;
        }
        finally { _gate.Exit(); }
    }

    private NpgsqlConnection Connection()
    {
        if (_connection is { State: System.Data.ConnectionState.Open }) return _connection;
        _connection?.Dispose();
        _connection = _connect();
        return _connection;
    }

    private void Exec(string sql, params (string Name, object Value)[] args)
    {
        try
        {
            using var cmd = new NpgsqlCommand(sql, Connection());
            foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v);
            cmd.ExecuteNonQuery();
        }
        catch (NpgsqlException e) { throw Broken(e); }
    }

    private ReidException Broken(NpgsqlException e)
    {
        _connection?.Dispose();
        _connection = null;
        return new ReidException($"the watchers' shared track ledger: {e.Message}", e);
    }

    private static byte[] Bytes(float[] v)
    {
        var b = new byte[v.Length * sizeof(float)];
        Buffer.BlockCopy(v, 0, b, 0, b.Length);
        return b;
    }

    private static float[] Floats(byte[] b)
    {
        var v = new float[b.Length / sizeof(float)];
        Buffer.BlockCopy(b, 0, v, 0, b.Length);
        return v;
    }

    private sealed class Releaser(PostgresTrackLedger ledger) : IDisposable
    {
        private int _done;
        public void Dispose() { if (Interlocked.Exchange(ref _done, 1) == 0) ledger.Unlock(); }
    }
}
