using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Reid.Core;

namespace Reid.Gallery;

/// <summary>
/// The persistent gallery: one SQLite database (WAL) in a data directory. Every write is one transaction, so an
/// identity is stored with all its sightings or not at all, even when the process is killed mid-way.
/// Embeddings live in their own table keyed by (model, sighting): several models can coexist after a
/// re-embedding, and readers always ask for one model, so vectors of different models are never compared.
/// Deletion cascades to sightings, crops and embeddings; `secure_delete` overwrites the freed pages and a WAL
/// checkpoint follows, so erased data does not linger in the file.
/// </summary>
public sealed class GalleryStore
{
    public const string DatabaseFileName = "gallery.db";

    private readonly string _connectionString;

    /// <summary>Fault injection for the crash-consistency test: milliseconds to pause after each stored sighting.</summary>
    private readonly int _pauseAfterSightingMs;

    public string DataDirectory { get; }
    public string DatabasePath { get; }

    private GalleryStore(string dataDirectory)
    {
        DataDirectory = Path.GetFullPath(dataDirectory);
        DatabasePath = Path.Combine(DataDirectory, DatabaseFileName);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _ = int.TryParse(Environment.GetEnvironmentVariable("REID_GALLERY_FAULT_PAUSE_MS"), out _pauseAfterSightingMs);
    }

    /// <summary>Opens (creating if needed) the gallery in <paramref name="dataDirectory"/> and applies pending migrations.</summary>
    public static GalleryStore Open(string dataDirectory)
    {
        if (string.IsNullOrWhiteSpace(dataDirectory)) throw new ReidException("gallery data directory not given");
        try { Directory.CreateDirectory(dataDirectory); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new ReidException($"cannot create gallery directory {dataDirectory}: {e.Message}", e); }
        var store = new GalleryStore(dataDirectory);
        try { store.Migrate(); }
        catch (SqliteException e) { throw new ReidException($"cannot open gallery database {store.DatabasePath}: {e.Message}", e); }
        return store;
    }

    public int SchemaVersion
    {
        get { using var c = Connect(); return (int)(long)Scalar(c, "SELECT MAX(version) FROM schema_version")!; }
    }

    // ---- identities and sightings -------------------------------------------------------------------------

    /// <summary>Stores a new identity with its sightings in one transaction and returns its id.</summary>
    public long CreateIdentity(string name, string? metadataJson, IReadOnlyList<NewSighting> sightings, string modelId, string actor)
    {
        ValidateName(name);
        using var c = Connect();
        using var tx = c.BeginTransaction();
        var id = (long)Scalar(c, "INSERT INTO identities(name, created, metadata) VALUES ($n, $t, $m) RETURNING id",
            ("$n", name), ("$t", Now()), ("$m", metadataJson ?? "{}"))!;
        InsertSightings(c, id, sightings, modelId);
        Audit(c, actor, "enrol", id, $"{sightings.Count} sighting(s), model {modelId}");
        tx.Commit();
        return id;
    }

    /// <summary>Adds sightings to an existing identity (one transaction).</summary>
    public void AddSightings(long identityId, IReadOnlyList<NewSighting> sightings, string modelId, string actor)
    {
        using var c = Connect();
        using var tx = c.BeginTransaction();
        if (Scalar(c, "SELECT 1 FROM identities WHERE id = $id", ("$id", identityId)) is null)
            throw new IdentityNotFoundException(identityId);
        InsertSightings(c, identityId, sightings, modelId);
        Audit(c, actor, "add-sightings", identityId, $"{sightings.Count} sighting(s), model {modelId}");
        tx.Commit();
    }

    private void InsertSightings(SqliteConnection c, long identityId, IReadOnlyList<NewSighting> sightings, string modelId)
    {
        if (sightings.Count == 0) throw new ReidException("no sightings to store: give at least one image");
        using var s = c.CreateCommand();
        s.CommandText = """
            INSERT INTO sightings(identity_id, camera, captured_at, source, frame, source_time, box_x, box_y, box_w, box_h,
                                  crop, crop_width, crop_height, created)
            VALUES ($i, $cam, $at, $src, $f, $st, $bx, $by, $bw, $bh, $crop, $cw, $ch, $t) RETURNING id
            """;
        using var e = c.CreateCommand();
        e.CommandText = "INSERT OR REPLACE INTO embeddings(sighting_id, model_id, dimension, vector) VALUES ($s, $m, $d, $v)";
        foreach (var n in sightings)
        {
            s.Parameters.Clear();
            var o = n.Origin;
            Bind(s, ("$i", identityId), ("$cam", o.Camera), ("$at", o.CapturedAt?.ToString("O")), ("$src", o.Source),
                ("$f", o.Frame), ("$st", o.SourceTime), ("$bx", o.Box?.X), ("$by", o.Box?.Y), ("$bw", o.Box?.Width),
                ("$bh", o.Box?.Height), ("$crop", n.CropJpeg), ("$cw", n.CropWidth), ("$ch", n.CropHeight), ("$t", Now()));
            var sightingId = (long)s.ExecuteScalar()!;
            e.Parameters.Clear();
            Bind(e, ("$s", sightingId), ("$m", modelId), ("$d", n.Embedding.Length), ("$v", ToBlob(n.Embedding)));
            e.ExecuteNonQuery();
            if (_pauseAfterSightingMs > 0)
            {
                Console.Error.WriteLine($"stored sighting {sightingId} (uncommitted)");
                Thread.Sleep(_pauseAfterSightingMs);
            }
        }
    }

    public Identity? GetIdentity(long id)
    {
        using var c = Connect();
        return ReadIdentities(c, "WHERE i.id = $id", ("$id", id)).FirstOrDefault();
    }

    /// <summary>Identities ordered by id; <paramref name="nameContains"/> filters case-insensitively.</summary>
    public IReadOnlyList<Identity> ListIdentities(string? nameContains = null, int offset = 0, int limit = int.MaxValue)
    {
        using var c = Connect();
        var where = string.IsNullOrEmpty(nameContains) ? "" : "WHERE i.name LIKE $q ESCAPE '\\'";
        var pattern = "%" + (nameContains ?? "").Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
        return ReadIdentities(c, $"{where} ORDER BY i.id LIMIT $lim OFFSET $off",
            ("$q", pattern), ("$lim", (long)Math.Max(0, limit)), ("$off", (long)Math.Max(0, offset)));
    }

    public int CountIdentities()
    {
        using var c = Connect();
        return (int)(long)Scalar(c, "SELECT COUNT(*) FROM identities")!;
    }

    public IReadOnlyList<Sighting> GetSightings(long identityId)
    {
        using var c = Connect();
        return ReadSightings(c, "WHERE identity_id = $i ORDER BY id", ("$i", identityId));
    }

    public IReadOnlyList<Sighting> GetSightingsById(IReadOnlyCollection<long> ids)
    {
        if (ids.Count == 0) return [];
        using var c = Connect();
        var list = string.Join(",", ids.Select(i => i.ToString(CultureInfo.InvariantCulture)));
        return ReadSightings(c, $"WHERE id IN ({list})");
    }

    /// <summary>The stored crop (JPEG bytes) of a sighting, or null when it does not exist (or was erased).</summary>
    public byte[]? GetCrop(long sightingId)
    {
        using var c = Connect();
        return Scalar(c, "SELECT crop FROM sightings WHERE id = $id", ("$id", sightingId)) as byte[];
    }

    /// <summary>
    /// Erases an identity with its sightings, crops and embeddings, and logs the erasure (id, counts, actor,
    /// reason: never the name, which is the personal data being erased). Returns false when it did not exist.
    /// </summary>
    public bool DeleteIdentity(long id, string actor, string? reason = null)
    {
        using var c = Connect();
        using (var tx = c.BeginTransaction())
        {
            var count = (long)Scalar(c, "SELECT COUNT(*) FROM sightings WHERE identity_id = $id", ("$id", id))!;
            var deleted = Exec(c, "DELETE FROM identities WHERE id = $id", ("$id", id));
            if (deleted == 0) return false;
            Audit(c, actor, "delete", id, $"erased {count} sighting(s) with their crops and embeddings" +
                                           (string.IsNullOrWhiteSpace(reason) ? "" : $"; reason: {reason}"));
            tx.Commit();
        }
        Exec(c, "PRAGMA wal_checkpoint(TRUNCATE)");
        return true;
    }

    public bool RenameIdentity(long id, string name, string? metadataJson, string actor)
    {
        ValidateName(name);
        using var c = Connect();
        using var tx = c.BeginTransaction();
        var n = metadataJson is null
            ? Exec(c, "UPDATE identities SET name = $n WHERE id = $id", ("$n", name), ("$id", id))
            : Exec(c, "UPDATE identities SET name = $n, metadata = $m WHERE id = $id", ("$n", name), ("$m", metadataJson), ("$id", id));
        if (n == 0) return false;
        Audit(c, actor, "update", id, "name/metadata changed");
        tx.Commit();
        return true;
    }

    // ---- embeddings --------------------------------------------------------------------------------------

    /// <summary>Embeddings of one model inserted after <paramref name="afterRowId"/>, in insertion order.</summary>
    public IEnumerable<StoredEmbedding> ReadEmbeddings(string modelId, long afterRowId = 0)
    {
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT e.rowid, e.sighting_id, s.identity_id, e.vector FROM embeddings e JOIN sightings s ON s.id = e.sighting_id
            WHERE e.model_id = $m AND e.rowid > $r ORDER BY e.rowid
            """;
        Bind(cmd, ("$m", modelId), ("$r", afterRowId));
        using var r = cmd.ExecuteReader();
        while (r.Read())
            yield return new StoredEmbedding(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), FromBlob((byte[])r.GetValue(3)));
    }

    /// <summary>Sighting ids (with their crops) that have no embedding under <paramref name="modelId"/> yet.</summary>
    public IReadOnlyList<long> SightingsMissingModel(string modelId)
    {
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id FROM sightings WHERE id NOT IN (SELECT sighting_id FROM embeddings WHERE model_id = $m) ORDER BY id";
        Bind(cmd, ("$m", modelId));
        using var r = cmd.ExecuteReader();
        var ids = new List<long>();
        while (r.Read()) ids.Add(r.GetInt64(0));
        return ids;
    }

    /// <summary>Stores embeddings under a model for existing sightings (one transaction per call); skips sightings erased meanwhile.</summary>
    public int PutEmbeddings(string modelId, IReadOnlyList<(long SightingId, float[] Vector)> vectors)
    {
        using var c = Connect();
        using var tx = c.BeginTransaction();
        using var e = c.CreateCommand();
        e.CommandText = """
            INSERT OR REPLACE INTO embeddings(sighting_id, model_id, dimension, vector)
            SELECT $s, $m, $d, $v WHERE EXISTS (SELECT 1 FROM sightings WHERE id = $s)
            """;
        var stored = 0;
        foreach (var (sid, v) in vectors)
        {
            e.Parameters.Clear();
            Bind(e, ("$s", sid), ("$m", modelId), ("$d", v.Length), ("$v", ToBlob(v)));
            stored += e.ExecuteNonQuery();
        }
        tx.Commit();
        return stored;
    }

    /// <summary>How many embeddings each model has.</summary>
    public IReadOnlyDictionary<string, int> EmbeddingCounts()
    {
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT model_id, COUNT(*) FROM embeddings GROUP BY model_id";
        using var r = cmd.ExecuteReader();
        var d = new Dictionary<string, int>();
        while (r.Read()) d[r.GetString(0)] = r.GetInt32(1);
        return d;
    }

    // ---- audit -------------------------------------------------------------------------------------------

    public IReadOnlyList<AuditEntry> ReadAudit(long afterId = 0, string? action = null)
    {
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, at, actor, action, identity_id, detail FROM audit WHERE id > $a AND ($act IS NULL OR action = $act) ORDER BY id";
        Bind(cmd, ("$a", afterId), ("$act", action));
        using var r = cmd.ExecuteReader();
        var list = new List<AuditEntry>();
        while (r.Read())
            list.Add(new AuditEntry(r.GetInt64(0), ParseTime(r.GetString(1)), r.GetString(2), r.GetString(3),
                r.IsDBNull(4) ? null : r.GetInt64(4), r.GetString(5)));
        return list;
    }

    public void LogAudit(string actor, string action, long? identityId, string detail)
    {
        using var c = Connect();
        Audit(c, actor, action, identityId, detail);
    }

    // ---- thresholds --------------------------------------------------------------------------------------

    public Threshold? GetThreshold(string modelId)
    {
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT model_id, score, far, source, created FROM thresholds WHERE model_id = $m";
        Bind(cmd, ("$m", modelId));
        using var r = cmd.ExecuteReader();
        return r.Read()
            ? new Threshold(r.GetString(0), r.GetDouble(1), r.IsDBNull(2) ? null : r.GetDouble(2), r.GetString(3), ParseTime(r.GetString(4)))
            : null;
    }

    public void SetThreshold(Threshold t, string actor)
    {
        using var c = Connect();
        using var tx = c.BeginTransaction();
        Exec(c, "INSERT OR REPLACE INTO thresholds(model_id, score, far, source, created) VALUES ($m, $s, $f, $src, $t)",
            ("$m", t.ModelId), ("$s", t.Score), ("$f", t.Far), ("$src", t.Source), ("$t", t.Created.ToString("O")));
        Audit(c, actor, "threshold", null, FormattableString.Invariant($"model {t.ModelId}: {t.Score:F4} ({t.Source})"));
        tx.Commit();
    }

    // ---- API keys ----------------------------------------------------------------------------------------

    /// <summary>Creates a key and returns its secret (shown once; only its SHA-256 is stored).</summary>
    public string CreateApiKey(string label, KeyRole role, string actor)
    {
        var secret = "reid_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        using var c = Connect();
        using var tx = c.BeginTransaction();
        Exec(c, "INSERT INTO api_keys(label, role, hash, created) VALUES ($l, $r, $h, $t)",
            ("$l", label), ("$r", role.ToString().ToLowerInvariant()), ("$h", HashKey(secret)), ("$t", Now()));
        Audit(c, actor, "key-create", null, $"{role} key '{label}'");
        tx.Commit();
        return secret;
    }

    /// <summary>The role of a presented key, or null when it is unknown or revoked.</summary>
    public (long Id, KeyRole Role)? FindApiKey(string secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length > 200) return null;
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, role FROM api_keys WHERE hash = $h AND revoked = 0";
        Bind(cmd, ("$h", HashKey(secret)));
        using var r = cmd.ExecuteReader();
        return r.Read() ? (r.GetInt64(0), ParseRole(r.GetString(1))) : null;
    }

    public IReadOnlyList<ApiKeyRecord> ListApiKeys()
    {
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, label, role, created, revoked FROM api_keys ORDER BY id";
        using var r = cmd.ExecuteReader();
        var list = new List<ApiKeyRecord>();
        while (r.Read())
            list.Add(new ApiKeyRecord(r.GetInt64(0), r.GetString(1), ParseRole(r.GetString(2)), ParseTime(r.GetString(3)), r.GetInt64(4) != 0));
        return list;
    }

    public bool RevokeApiKey(long id, string actor)
    {
        using var c = Connect();
        using var tx = c.BeginTransaction();
        if (Exec(c, "UPDATE api_keys SET revoked = 1 WHERE id = $id AND revoked = 0", ("$id", id)) == 0) return false;
        Audit(c, actor, "key-revoke", null, $"key {id}");
        tx.Commit();
        return true;
    }

    private static string HashKey(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static KeyRole ParseRole(string s) => s == "write" ? KeyRole.Write : KeyRole.Read;

    // ---- consistency -------------------------------------------------------------------------------------

    /// <summary>SQLite's integrity check plus the gallery's own invariants; returns the problems found (empty = consistent).</summary>
    public IReadOnlyList<string> CheckConsistency()
    {
        using var c = Connect();
        var problems = new List<string>();
        var integrity = (string)Scalar(c, "PRAGMA integrity_check")!;
        if (integrity != "ok") problems.Add($"integrity_check: {integrity}");
        var orphanS = (long)Scalar(c, "SELECT COUNT(*) FROM sightings WHERE identity_id NOT IN (SELECT id FROM identities)")!;
        if (orphanS > 0) problems.Add($"{orphanS} sighting(s) without an identity");
        var orphanE = (long)Scalar(c, "SELECT COUNT(*) FROM embeddings WHERE sighting_id NOT IN (SELECT id FROM sightings)")!;
        if (orphanE > 0) problems.Add($"{orphanE} embedding(s) without a sighting");
        var empty = (long)Scalar(c, "SELECT COUNT(*) FROM identities WHERE id NOT IN (SELECT identity_id FROM sightings)")!;
        if (empty > 0) problems.Add($"{empty} identit(y/ies) without sightings");
        return problems;
    }

    // ---- plumbing ----------------------------------------------------------------------------------------

    private static readonly string[] Migrations =
    [
        // 1: the initial schema.
        """
        CREATE TABLE identities(
            id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, created TEXT NOT NULL, metadata TEXT NOT NULL DEFAULT '{}');
        CREATE INDEX identities_name ON identities(name);
        CREATE TABLE sightings(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
            camera TEXT, captured_at TEXT, source TEXT, frame INTEGER, source_time REAL,
            box_x REAL, box_y REAL, box_w REAL, box_h REAL,
            crop BLOB NOT NULL, crop_width INTEGER NOT NULL, crop_height INTEGER NOT NULL, created TEXT NOT NULL);
        CREATE INDEX sightings_identity ON sightings(identity_id);
        CREATE TABLE embeddings(
            sighting_id INTEGER NOT NULL REFERENCES sightings(id) ON DELETE CASCADE,
            model_id TEXT NOT NULL, dimension INTEGER NOT NULL, vector BLOB NOT NULL,
            UNIQUE(model_id, sighting_id));
        CREATE INDEX embeddings_sighting ON embeddings(sighting_id);
        CREATE TABLE audit(
            id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
            identity_id INTEGER, detail TEXT NOT NULL);
        CREATE TABLE thresholds(
            model_id TEXT PRIMARY KEY, score REAL NOT NULL, far REAL, source TEXT NOT NULL, created TEXT NOT NULL);
        CREATE TABLE api_keys(
            id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT NOT NULL, role TEXT NOT NULL CHECK(role IN ('read','write')),
            hash TEXT NOT NULL UNIQUE, created TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
        """,
    ];

    private void Migrate()
    {
        using var c = Connect();
        Exec(c, "PRAGMA journal_mode=WAL");
        Exec(c, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER PRIMARY KEY, applied TEXT NOT NULL)");
        var current = (long)Scalar(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version")!;
        if (current > Migrations.Length)
            throw new ReidException($"gallery {DatabasePath} has schema version {current}, newer than this program knows ({Migrations.Length}); upgrade reid");
        for (var v = (int)current + 1; v <= Migrations.Length; v++)
        {
            using var tx = c.BeginTransaction();
            // Re-check inside the write lock: another process may have migrated meanwhile.
            if ((long)Scalar(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version")! >= v) { tx.Commit(); continue; }
            Exec(c, Migrations[v - 1]);
            Exec(c, "INSERT INTO schema_version(version, applied) VALUES ($v, $t)", ("$v", (long)v), ("$t", Now()));
            tx.Commit();
        }
    }

    private SqliteConnection Connect()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        // Per-connection settings: cascades need foreign_keys; secure_delete zeroes erased data;
        // synchronous=FULL makes each committed enrolment durable, not only atomic.
        Exec(c, "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000");
        return c;
    }

    private void Audit(SqliteConnection c, string actor, string action, long? identityId, string detail) =>
        Exec(c, "INSERT INTO audit(at, actor, action, identity_id, detail) VALUES ($t, $a, $act, $i, $d)",
            ("$t", Now()), ("$a", actor), ("$act", action), ("$i", identityId), ("$d", detail));

    private static IReadOnlyList<Identity> ReadIdentities(SqliteConnection c, string tail, params (string, object?)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT i.id, i.name, i.created, i.metadata, (SELECT COUNT(*) FROM sightings s WHERE s.identity_id = i.id), (SELECT MIN(s.id) FROM sightings s WHERE s.identity_id = i.id) FROM identities i {tail}";
        Bind(cmd, args);
        using var r = cmd.ExecuteReader();
        var list = new List<Identity>();
        while (r.Read())
            list.Add(new Identity(r.GetInt64(0), r.GetString(1), ParseTime(r.GetString(2)), r.GetString(3), r.GetInt32(4), r.IsDBNull(5) ? null : r.GetInt64(5)));
        return list;
    }

    private static IReadOnlyList<Sighting> ReadSightings(SqliteConnection c, string tail, params (string, object?)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"""
            SELECT id, identity_id, camera, captured_at, source, frame, source_time, box_x, box_y, box_w, box_h,
                   crop_width, crop_height, created FROM sightings {tail}
            """;
        Bind(cmd, args);
        using var r = cmd.ExecuteReader();
        var list = new List<Sighting>();
        while (r.Read())
        {
            string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
            var box = r.IsDBNull(7) ? null : new BoundingBox(r.GetDouble(7), r.GetDouble(8), r.GetDouble(9), r.GetDouble(10));
            var origin = new SightingSource(S(2), S(3) is { } at ? ParseTime(at) : null, S(4),
                r.IsDBNull(5) ? null : r.GetInt64(5), r.IsDBNull(6) ? null : r.GetDouble(6), box);
            list.Add(new Sighting(r.GetInt64(0), r.GetInt64(1), origin, r.GetInt32(11), r.GetInt32(12), ParseTime(r.GetString(13))));
        }
        return list;
    }

    private static void ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ReidException("an identity needs a non-empty name");
        if (name.Length > 200) throw new ReidException("identity name longer than 200 characters");
    }

    private static string Now() => DateTimeOffset.UtcNow.ToString("O");
    private static DateTimeOffset ParseTime(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    internal static byte[] ToBlob(float[] v) => MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    internal static float[] FromBlob(byte[] b)
    {
        if (b.Length % sizeof(float) != 0) throw new ReidException($"stored embedding has {b.Length} bytes, not a whole number of floats");
        return MemoryMarshal.Cast<byte, float>(b).ToArray();
    }

    private static void Bind(SqliteCommand cmd, params (string Name, object? Value)[] args)
    {
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
    }

    private static int Exec(SqliteConnection c, string sql, params (string, object?)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        Bind(cmd, args);
        return cmd.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection c, string sql, params (string, object?)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        Bind(cmd, args);
        var v = cmd.ExecuteScalar();
        return v is DBNull ? null : v;
    }
}
