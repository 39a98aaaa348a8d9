using System.Data.Common;
using Npgsql;
using Reid.Core;

namespace Reid.Gallery;

/// <summary>
/// The gallery in a PostgreSQL database, for several nodes (servers, CLI runs) sharing one gallery. Same schema,
/// transactions and erasure semantics as <see cref="SqliteGalleryStore"/>.
/// <para>
/// How other nodes see new rows: each <see cref="GalleryService"/> reads, before every question, the embeddings
/// and audit entries with an id above the last it saw (the same incremental refresh as with SQLite), rather than
/// LISTEN/NOTIFY: it needs no long-lived listening connection per node, cannot miss a notification across a
/// reconnect, and costs one indexed range query per question. It is only correct if ids become visible in
/// increasing order, which a plain sequence does not give (a transaction that drew id 10 may commit after one
/// that drew id 11, and a reader that saw 11 would skip 10 for ever). So every write transaction first takes one
/// transaction-scoped advisory lock: writers are serialised, as in SQLite, and ids are drawn in commit order.
/// Enrolments are rare next to searches, which never take the lock.
/// </para>
/// <para>
/// Erasure: the rows are deleted in one transaction (cascading to sightings, crops and embeddings) and invisible
/// at once; PostgreSQL reclaims the space at its next VACUUM. Its WAL and base backups may still hold the bytes
/// until they are recycled: the operator's retention of those is part of the erasure policy.
/// </para>
/// </summary>
public sealed class PostgresGalleryStore : SqlGalleryStore
{
    /// <summary>Key of the advisory lock that serialises writers (any constant; advisory locks are per database).</summary>
    private const long WriterLockKey = 0x5245_4944_4741_4C4C; // "REIDGALL"

    private readonly string _connectionString;

    public override string Location { get; }
    public override string DataDirectory { get; }

    private PostgresGalleryStore(string connectionString, string location, string dataDirectory) =>
        (_connectionString, Location, DataDirectory) = (connectionString, location, dataDirectory);

    /// <summary>
    /// Connects to the database named by an Npgsql connection string (`Host=…;Database=…;Username=…`; the password
    /// may also come from PGPASSWORD or ~/.pgpass) and applies pending migrations. <paramref name="dataDirectory"/>
    /// is this node's directory for local files (default: the current directory).
    /// </summary>
    public static PostgresGalleryStore Open(string connectionString, string? dataDirectory = null)
    {
        if (string.IsNullOrWhiteSpace(connectionString)) throw new ReidException("gallery database connection string not given");
        NpgsqlConnectionStringBuilder b;
        try { b = new NpgsqlConnectionStringBuilder(connectionString); }
        catch (Exception e) when (e is ArgumentException or FormatException)
        { throw new ReidException($"invalid database connection string (expected Host=…;Database=…;Username=…): {e.Message}", e); }
        if (string.IsNullOrEmpty(b.Host)) throw new ReidException("the database connection string names no Host");
        // Never show the password in messages.
        var location = $"postgresql://{b.Username}{(b.Username is null ? "" : "@")}{b.Host}:{b.Port}/{b.Database}";
        var store = new PostgresGalleryStore(b.ConnectionString, location, Path.GetFullPath(dataDirectory ?? "."));
        using var c = store.Connect();
        try
        {
            using (var tx = store.BeginWrite(c))
            {
                Exec(c, "CREATE TABLE IF NOT EXISTS schema_version(version integer PRIMARY KEY, applied timestamptz NOT NULL)");
                tx.Commit();
            }
            store.Migrate(c, Migrations);
        }
        catch (DbException e) { throw new ReidException($"cannot prepare the gallery in {location}: {e.Message}", e); }
        return store;
    }

    private static readonly string[] Migrations =
    [
        // 1: the initial schema (the SQLite one in PostgreSQL types).
        """
        CREATE TABLE identities(
            id bigserial PRIMARY KEY, name text NOT NULL, created timestamptz NOT NULL, metadata text NOT NULL DEFAULT '{}');
        CREATE INDEX identities_name ON identities(name);
        CREATE TABLE sightings(
            id bigserial PRIMARY KEY,
            identity_id bigint NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
            camera text, captured_at timestamptz, source text, frame bigint, source_time double precision,
            box_x double precision, box_y double precision, box_w double precision, box_h double precision,
            crop bytea NOT NULL, crop_width integer NOT NULL, crop_height integer NOT NULL, created timestamptz NOT NULL);
        CREATE INDEX sightings_identity ON sightings(identity_id);
        CREATE TABLE embeddings(
            id bigserial PRIMARY KEY,
            sighting_id bigint NOT NULL REFERENCES sightings(id) ON DELETE CASCADE,
            model_id text NOT NULL, dimension integer NOT NULL, vector bytea NOT NULL,
            UNIQUE(model_id, sighting_id));
        CREATE INDEX embeddings_sighting ON embeddings(sighting_id);
        CREATE INDEX embeddings_model_order ON embeddings(model_id, id);
        CREATE TABLE audit(
            id bigserial PRIMARY KEY, at timestamptz NOT NULL, actor text NOT NULL, action text NOT NULL,
            identity_id bigint, detail text NOT NULL);
        CREATE TABLE thresholds(
            model_id text PRIMARY KEY, score double precision NOT NULL, far double precision, source text NOT NULL,
            created timestamptz NOT NULL);
        CREATE TABLE api_keys(
            id bigserial PRIMARY KEY, label text NOT NULL, role text NOT NULL CHECK(role IN ('read','write')),
            hash text NOT NULL UNIQUE, created timestamptz NOT NULL, revoked integer NOT NULL DEFAULT 0);
        """,
        // 2: cameras shared by several `reid watch` workers: who holds each, until when (see CameraLeases).
        """
        CREATE TABLE camera_leases(
            camera text PRIMARY KEY, url text NOT NULL, owner text, expires_at timestamptz, claimed_at timestamptz);
        """,
        // 3: the tracks the workers' associators decided, so each links to the others' (see PostgresTrackLedger).
        """
        CREATE TABLE watch_tracks(
            run text NOT NULL, camera text NOT NULL, track integer NOT NULL, identity_id bigint NOT NULL, name text NOT NULL,
            start_s double precision NOT NULL, end_s double precision NOT NULL, embedding bytea NOT NULL,
            PRIMARY KEY(run, camera, track));
        CREATE INDEX watch_tracks_end ON watch_tracks(end_s);
        """,
    ];

    /// <summary>The camera leases of this gallery's workers; <paramref name="worker"/> names this process.</summary>
    public CameraLeases Leases(string worker, TimeSpan ttl)
    {
        // A lease call must fail well within the lease time, so that a worker cut off from the database notices and stops
        // its cameras before their leases can pass to another worker: Npgsql's defaults (15 s to connect, 30 s a command)
        // are longer than a 15 s lease.
        var seconds = Math.Max(1, (int)(ttl.TotalSeconds / 10));
        var b = new NpgsqlConnectionStringBuilder(_connectionString);
        b.Timeout = b.Timeout is > 0 and var t ? Math.Min(t, seconds) : seconds;              // 0 would mean "wait for ever"
        b.CommandTimeout = b.CommandTimeout is > 0 and var ct ? Math.Min(ct, seconds) : seconds;
        var bounded = b.ConnectionString;
        return new(() => (NpgsqlConnection)Open(bounded), worker, ttl);
    }

    /// <summary>The recent tracks and decision lock every `reid watch` worker of this gallery shares.</summary>
    public PostgresTrackLedger TrackLedger() => new(() => (NpgsqlConnection)Connect());

    protected override DbConnection Connect() => Open(_connectionString);

    private DbConnection Open(string connectionString)
    {
        var c = new NpgsqlConnection(connectionString);
        try { c.Open(); }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            c.Dispose();
            throw new ReidException($"cannot connect to the gallery database {Location}: {e.Message}", e);
        }
        return c;
    }

    protected override DbTransaction BeginWrite(DbConnection c)
    {
        var tx = ((NpgsqlConnection)c).BeginTransaction();
        Exec(c, "SELECT pg_advisory_xact_lock(@k)", ("@k", WriterLockKey));
        return tx;
    }

    protected override string EmbeddingRowId => "id";

    // A replaced vector draws a new id, so readers following by id pick it up.
    protected override string UpsertEmbedding(string source) =>
        $"""
        INSERT INTO embeddings(sighting_id, model_id, dimension, vector) {source}
        ON CONFLICT (model_id, sighting_id) DO UPDATE
        SET dimension = EXCLUDED.dimension, vector = EXCLUDED.vector, id = nextval(pg_get_serial_sequence('embeddings', 'id'))
        """;

    protected override string UpsertThreshold =>
        """
        INSERT INTO thresholds(model_id, score, far, source, created) VALUES (@m, @s, @f, @src, @t)
        ON CONFLICT (model_id) DO UPDATE SET score = EXCLUDED.score, far = EXCLUDED.far, source = EXCLUDED.source, created = EXCLUDED.created
        """;

    protected override string CaseInsensitiveLike => "ILIKE";

    protected override object TimeValue(DateTimeOffset t) => t.ToUniversalTime();

    protected override DateTimeOffset ReadTime(DbDataReader r, int i) => r.GetFieldValue<DateTimeOffset>(i);
}
