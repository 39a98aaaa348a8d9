using System.Data.Common;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Reid.Core;
using Reid.Imaging;

namespace Reid.Gallery;

/// <summary>
/// The gallery's operations in SQL common to SQLite and PostgreSQL (ADO.NET, `@name` parameters, which both
/// providers accept). Subclasses supply the connection, the schema migrations and the few places where the
/// dialects differ (upsert of an embedding, time values, case-insensitive LIKE, the engine's own integrity
/// check, what follows an erasure, and how writers are serialised).
/// </summary>
public abstract class SqlGalleryStore : IGalleryStore
{
    /// <summary>
    /// Called with each sighting's id while its enrolment's transaction is still open: the moment where a crash
    /// would do the most harm (part of an identity written), so the crash-consistency test acts here.
    /// </summary>
    internal Action<long>? SightingStoredInTransaction { get; set; }

    public abstract string Location { get; }
    public abstract string DataDirectory { get; }

    // ---- dialect ----------------------------------------------------------------------------------------

    /// <summary>An open connection with the engine's per-connection settings applied.</summary>
    protected abstract DbConnection Connect();

    /// <summary>A write transaction. Writers must be serialised so that ids drawn inside it (embeddings, audit)
    /// become visible in increasing order: readers follow the store by "id greater than the last one seen".</summary>
    protected abstract DbTransaction BeginWrite(DbConnection c);

    /// <summary>The column that orders embeddings by insertion (SQLite's rowid, PostgreSQL's id).</summary>
    protected abstract string EmbeddingRowId { get; }

    /// <summary>INSERT (or replace, with a new row id so readers pick the new vector up) of an embedding row from
    /// <paramref name="source"/> (a VALUES or SELECT giving sighting_id, model_id, dimension, vector).</summary>
    protected abstract string UpsertEmbedding(string source);

    protected abstract string UpsertThreshold { get; }
    protected abstract string CaseInsensitiveLike { get; }
    protected abstract object TimeValue(DateTimeOffset t);
    protected abstract DateTimeOffset ReadTime(DbDataReader r, int i);
    protected virtual IEnumerable<string> EngineProblems(DbConnection c) => [];
    protected virtual void AfterErasure(DbConnection c) { }

    // ---- identities and sightings -------------------------------------------------------------------------

    public int SchemaVersion
    {
        get { using var c = Connect(); return (int)Long(Scalar(c, "SELECT MAX(version) FROM schema_version")); }
    }

    /// <summary>Stores a new identity with its sightings in one transaction and returns its id.</summary>
    public long CreateIdentity(string name, string? metadataJson, IReadOnlyList<NewSighting> sightings, string modelId, string actor)
    {
        ValidateName(name);
        if (sightings.Count == 0) throw new ReidException("no sightings to store: give at least one image");
        using var c = Connect();
        using var tx = BeginWrite(c);
        var id = Long(Scalar(c, "INSERT INTO identities(name, created, metadata) VALUES (@n, @t, @m) RETURNING id",
            ("@n", name), ("@t", Now()), ("@m", metadataJson ?? "{}")));
        InsertSightings(c, id, sightings, modelId);
        Audit(c, actor, "enrol", id, $"{sightings.Count} sighting(s), model {modelId}");
        tx.Commit();
        return id;
    }

    /// <summary>Adds sightings to an existing identity (one transaction).</summary>
    public void AddSightings(long identityId, IReadOnlyList<NewSighting> sightings, string modelId, string actor)
    {
        if (sightings.Count == 0) throw new ReidException("no sightings to store: give at least one image");
        using var c = Connect();
        using var tx = BeginWrite(c);
        if (Scalar(c, "SELECT 1 FROM identities WHERE id = @id", ("@id", identityId)) is null)
            throw new IdentityNotFoundException(identityId);
        InsertSightings(c, identityId, sightings, modelId);
        Audit(c, actor, "add-sightings", identityId, $"{sightings.Count} sighting(s), model {modelId}");
        tx.Commit();
    }

    private void InsertSightings(DbConnection c, long identityId, IReadOnlyList<NewSighting> sightings, string modelId)
    {
        using var s = c.CreateCommand();
        s.CommandText = """
            INSERT INTO sightings(identity_id, camera, captured_at, source, frame, source_time, box_x, box_y, box_w, box_h,
                                  crop, crop_width, crop_height, created)
            VALUES (@i, @cam, @at, @src, @f, @st, @bx, @by, @bw, @bh, @crop, @cw, @ch, @t) RETURNING id
            """;
        using var e = c.CreateCommand();
        e.CommandText = UpsertEmbedding("VALUES (@s, @m, @d, @v)");
        foreach (var n in sightings)
        {
            s.Parameters.Clear();
            var o = n.Origin;
            Bind(s, ("@i", identityId), ("@cam", o.Camera), ("@at", o.CapturedAt is { } at ? TimeValue(at) : null), ("@src", o.Source),
                ("@f", o.Frame), ("@st", o.SourceTime), ("@bx", (double?)o.Box?.X), ("@by", (double?)o.Box?.Y), ("@bw", (double?)o.Box?.Width),
                ("@bh", (double?)o.Box?.Height), ("@crop", n.CropJpeg), ("@cw", n.CropWidth), ("@ch", n.CropHeight), ("@t", Now()));
            var sightingId = Long(s.ExecuteScalar());
            e.Parameters.Clear();
            Bind(e, ("@s", sightingId), ("@m", modelId), ("@d", n.Embedding.Length), ("@v", ToBlob(n.Embedding)));
            e.ExecuteNonQuery();
            SightingStoredInTransaction?.Invoke(sightingId);
        }
    }

    public Identity? GetIdentity(long id)
    {
        using var c = Connect();
        return ReadIdentities(c, "WHERE i.id = @id", ("@id", id)).FirstOrDefault();
    }

    /// <summary>Identities ordered by id; <paramref name="nameContains"/> filters case-insensitively.</summary>
    public IReadOnlyList<Identity> ListIdentities(string? nameContains = null, int offset = 0, int limit = int.MaxValue)
    {
        using var c = Connect();
        var where = string.IsNullOrEmpty(nameContains) ? "" : $"WHERE i.name {CaseInsensitiveLike} @q ESCAPE '\\'";
        var pattern = "%" + (nameContains ?? "").Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
        return ReadIdentities(c, $"{where} ORDER BY i.id LIMIT @lim OFFSET @off",
            ("@q", pattern), ("@lim", (long)Math.Max(0, limit)), ("@off", (long)Math.Max(0, offset)));
    }

    public int CountIdentities()
    {
        using var c = Connect();
        return (int)Long(Scalar(c, "SELECT COUNT(*) FROM identities"));
    }

    public IReadOnlyList<Sighting> GetSightings(long identityId)
    {
        using var c = Connect();
        return ReadSightings(c, "WHERE identity_id = @i ORDER BY id", ("@i", identityId));
    }

    public IReadOnlyList<Sighting> GetSightingsById(IReadOnlyCollection<long> ids)
    {
        if (ids.Count == 0) return [];
        using var c = Connect();
        var list = string.Join(",", ids.Select(i => i.ToString(CultureInfo.InvariantCulture)));
        return ReadSightings(c, $"WHERE id IN ({list}) ORDER BY id");
    }

    /// <summary>The stored crop (JPEG bytes) of a sighting, or null when it does not exist (or was erased).</summary>
    public byte[]? GetCrop(long sightingId)
    {
        using var c = Connect();
        return Scalar(c, "SELECT crop FROM sightings WHERE id = @id", ("@id", sightingId)) as byte[];
    }

    /// <summary>
    /// Erases an identity with its sightings, crops and embeddings, and logs the erasure (id, counts, actor,
    /// reason: never the name, which is the personal data being erased). Returns false when it did not exist.
    /// </summary>
    public bool DeleteIdentity(long id, string actor, string? reason = null)
    {
        using var c = Connect();
        using (var tx = BeginWrite(c))
        {
            var count = Long(Scalar(c, "SELECT COUNT(*) FROM sightings WHERE identity_id = @id", ("@id", id)));
            var deleted = Exec(c, "DELETE FROM identities WHERE id = @id", ("@id", id));
            if (deleted == 0) return false;
            Audit(c, actor, "delete", id, $"erased {count} sighting(s) with their crops and embeddings" +
                                           (string.IsNullOrWhiteSpace(reason) ? "" : $"; reason: {reason}"));
            tx.Commit();
        }
        AfterErasure(c);
        return true;
    }

    /// <summary>
    /// Erases one sighting with its crop and embeddings (the cascade) and logs it against its identity, by ids only.
    /// The identity keeps at least one sighting: removing its last is refused (<see cref="LastSightingException"/>).
    /// </summary>
    public RemovedSighting? DeleteSighting(long sightingId, string actor, string? reason = null)
    {
        using var c = Connect();
        RemovedSighting removed;
        using (var tx = BeginWrite(c))
        {
            if (Scalar(c, "SELECT identity_id FROM sightings WHERE id = @id", ("@id", sightingId)) is not { } owner || owner is DBNull) return null;
            var identity = Long(owner);
            var count = Long(Scalar(c, "SELECT COUNT(*) FROM sightings WHERE identity_id = @i", ("@i", identity)));
            if (count <= 1) throw new LastSightingException(sightingId, identity);
            Exec(c, "DELETE FROM sightings WHERE id = @id", ("@id", sightingId));
            Audit(c, actor, DeleteSightingAction, identity, $"erased sighting {sightingId} with its crop and embeddings" +
                                                             (string.IsNullOrWhiteSpace(reason) ? "" : $"; reason: {reason}"));
            tx.Commit();
            removed = new RemovedSighting(sightingId, identity, (int)count - 1);
        }
        AfterErasure(c);
        return removed;
    }

    /// <summary>The audit action of <see cref="DeleteSighting"/>: readers of the log drop the sighting from their index.</summary>
    public const string DeleteSightingAction = "delete-sighting";

    public bool RenameIdentity(long id, string name, string? metadataJson, string actor)
    {
        ValidateName(name);
        using var c = Connect();
        using var tx = BeginWrite(c);
        var n = metadataJson is null
            ? Exec(c, "UPDATE identities SET name = @n WHERE id = @id", ("@n", name), ("@id", id))
            : Exec(c, "UPDATE identities SET name = @n, metadata = @m WHERE id = @id", ("@n", name), ("@m", metadataJson), ("@id", id));
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
        cmd.CommandText = $"""
            SELECT e.{EmbeddingRowId}, e.sighting_id, s.identity_id, e.vector FROM embeddings e JOIN sightings s ON s.id = e.sighting_id
            WHERE e.model_id = @m AND e.{EmbeddingRowId} > @r ORDER BY e.{EmbeddingRowId}
            """;
        Bind(cmd, ("@m", modelId), ("@r", afterRowId));
        using var r = cmd.ExecuteReader();
        while (r.Read())
            yield return new StoredEmbedding(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), FromBlob((byte[])r.GetValue(3)));
    }

    /// <summary>Sighting ids (with their crops) that have no embedding under <paramref name="modelId"/> yet.</summary>
    public IReadOnlyList<long> SightingsMissingModel(string modelId)
    {
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id FROM sightings WHERE id NOT IN (SELECT sighting_id FROM embeddings WHERE model_id = @m) ORDER BY id";
        Bind(cmd, ("@m", modelId));
        using var r = cmd.ExecuteReader();
        var ids = new List<long>();
        while (r.Read()) ids.Add(r.GetInt64(0));
        return ids;
    }

    /// <summary>Stores embeddings under a model for existing sightings (one transaction per call); skips sightings erased meanwhile.</summary>
    public int PutEmbeddings(string modelId, IReadOnlyList<(long SightingId, float[] Vector)> vectors)
    {
        using var c = Connect();
        using var tx = BeginWrite(c);
        using var e = c.CreateCommand();
        e.CommandText = UpsertEmbedding("SELECT @s, @m, @d, @v WHERE EXISTS (SELECT 1 FROM sightings WHERE id = @s)");
        var stored = 0;
        foreach (var (sid, v) in vectors)
        {
            e.Parameters.Clear();
            Bind(e, ("@s", sid), ("@m", modelId), ("@d", v.Length), ("@v", ToBlob(v)));
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
        while (r.Read()) d[r.GetString(0)] = (int)Long(r.GetValue(1));
        return d;
    }

    // ---- audit -------------------------------------------------------------------------------------------

    public IReadOnlyList<AuditEntry> ReadAudit(long afterId = 0, string? action = null)
    {
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, at, actor, action, identity_id, detail FROM audit WHERE id > @a" +
                          (action is null ? "" : " AND action = @act") + " ORDER BY id";
        Bind(cmd, ("@a", afterId));
        if (action is not null) Bind(cmd, ("@act", action));
        using var r = cmd.ExecuteReader();
        var list = new List<AuditEntry>();
        while (r.Read())
            list.Add(new AuditEntry(r.GetInt64(0), ReadTime(r, 1), r.GetString(2), r.GetString(3),
                r.IsDBNull(4) ? null : r.GetInt64(4), r.GetString(5)));
        return list;
    }

    public void LogAudit(string actor, string action, long? identityId, string detail)
    {
        using var c = Connect();
        using var tx = BeginWrite(c);
        Audit(c, actor, action, identityId, detail);
        tx.Commit();
    }

    // ---- thresholds --------------------------------------------------------------------------------------

    public Threshold? GetThreshold(string modelId)
    {
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT model_id, score, far, source, created FROM thresholds WHERE model_id = @m";
        Bind(cmd, ("@m", modelId));
        using var r = cmd.ExecuteReader();
        return r.Read()
            ? new Threshold(r.GetString(0), r.GetDouble(1), r.IsDBNull(2) ? null : r.GetDouble(2), r.GetString(3), ReadTime(r, 4))
            : null;
    }

    public void SetThreshold(Threshold t, string actor)
    {
        using var c = Connect();
        using var tx = BeginWrite(c);
        Exec(c, UpsertThreshold, ("@m", t.ModelId), ("@s", t.Score), ("@f", t.Far), ("@src", t.Source), ("@t", TimeValue(t.Created)));
        Audit(c, actor, "threshold", null, FormattableString.Invariant($"model {t.ModelId}: {t.Score:F4} ({t.Source})"));
        tx.Commit();
    }

    // ---- API keys ----------------------------------------------------------------------------------------

    /// <summary>Creates a key and returns its secret (shown once; only its SHA-256 is stored).</summary>
    public string CreateApiKey(string label, KeyRole role, string actor)
    {
        var secret = "reid_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        using var c = Connect();
        using var tx = BeginWrite(c);
        Exec(c, "INSERT INTO api_keys(label, role, hash, created) VALUES (@l, @r, @h, @t)",
            ("@l", label), ("@r", role.ToString().ToLowerInvariant()), ("@h", HashKey(secret)), ("@t", Now()));
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
        cmd.CommandText = "SELECT id, role FROM api_keys WHERE hash = @h AND revoked = 0";
        Bind(cmd, ("@h", HashKey(secret)));
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
            list.Add(new ApiKeyRecord(r.GetInt64(0), r.GetString(1), ParseRole(r.GetString(2)), ReadTime(r, 3), Long(r.GetValue(4)) != 0));
        return list;
    }

    public bool RevokeApiKey(long id, string actor)
    {
        using var c = Connect();
        using var tx = BeginWrite(c);
        if (Exec(c, "UPDATE api_keys SET revoked = 1 WHERE id = @id AND revoked = 0", ("@id", id)) == 0) return false;
        Audit(c, actor, "key-revoke", null, $"key {id}");
        tx.Commit();
        return true;
    }

    private static string HashKey(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static KeyRole ParseRole(string s) => s == "write" ? KeyRole.Write : KeyRole.Read;

    // ---- consistency -------------------------------------------------------------------------------------

    public IReadOnlyList<string> CheckConsistency()
    {
        using var c = Connect();
        var problems = EngineProblems(c).ToList();
        var orphanS = Long(Scalar(c, "SELECT COUNT(*) FROM sightings WHERE identity_id NOT IN (SELECT id FROM identities)"));
        if (orphanS > 0) problems.Add($"{orphanS} sighting(s) without an identity");
        var orphanE = Long(Scalar(c, "SELECT COUNT(*) FROM embeddings WHERE sighting_id NOT IN (SELECT id FROM sightings)"));
        if (orphanE > 0) problems.Add($"{orphanE} embedding(s) without a sighting");
        var empty = Long(Scalar(c, "SELECT COUNT(*) FROM identities WHERE id NOT IN (SELECT identity_id FROM sightings)"));
        if (empty > 0) problems.Add($"{empty} identit(y/ies) without sightings");
        return problems;
    }

    // ---- plumbing ----------------------------------------------------------------------------------------

    /// <summary>Applies the migrations newer than the stored schema version, each in its own write transaction.</summary>
    protected void Migrate(DbConnection c, IReadOnlyList<string> migrations)
    {
        var current = Long(Scalar(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version"));
        if (current > migrations.Count)
            throw new ReidException($"gallery {Location} has schema version {current}, newer than this program knows ({migrations.Count}); upgrade reid");
        for (var v = (int)current + 1; v <= migrations.Count; v++)
        {
            using var tx = BeginWrite(c);
            // Re-check inside the write lock: another process may have migrated meanwhile.
            if (Long(Scalar(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version")) >= v) { tx.Commit(); continue; }
            Exec(c, migrations[v - 1]);
            Exec(c, "INSERT INTO schema_version(version, applied) VALUES (@v, @t)", ("@v", v), ("@t", Now()));
            tx.Commit();
        }
    }

    private void Audit(DbConnection c, string actor, string action, long? identityId, string detail) =>
        Exec(c, "INSERT INTO audit(at, actor, action, identity_id, detail) VALUES (@t, @a, @act, @i, @d)",
            ("@t", Now()), ("@a", actor), ("@act", action), ("@i", identityId), ("@d", detail));

    private IReadOnlyList<Identity> ReadIdentities(DbConnection c, string tail, params (string, object?)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT i.id, i.name, i.created, i.metadata, (SELECT COUNT(*) FROM sightings s WHERE s.identity_id = i.id), (SELECT MIN(s.id) FROM sightings s WHERE s.identity_id = i.id) FROM identities i {tail}";
        Bind(cmd, args);
        using var r = cmd.ExecuteReader();
        var list = new List<Identity>();
        while (r.Read())
            list.Add(new Identity(r.GetInt64(0), r.GetString(1), ReadTime(r, 2), r.GetString(3), (int)Long(r.GetValue(4)), r.IsDBNull(5) ? null : r.GetInt64(5)));
        return list;
    }

    private IReadOnlyList<Sighting> ReadSightings(DbConnection c, string tail, params (string, object?)[] args)
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
            BoundingBox? box = r.IsDBNull(7) ? null : new BoundingBox((float)r.GetDouble(7), (float)r.GetDouble(8), (float)r.GetDouble(9), (float)r.GetDouble(10));
            var origin = new SightingSource(S(2), r.IsDBNull(3) ? null : ReadTime(r, 3), S(4),
                r.IsDBNull(5) ? null : r.GetInt64(5), r.IsDBNull(6) ? null : r.GetDouble(6), box);
            list.Add(new Sighting(r.GetInt64(0), r.GetInt64(1), origin, r.GetInt32(11), r.GetInt32(12), ReadTime(r, 13)));
        }
        return list;
    }

    private static void ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ReidException("an identity needs a non-empty name");
        if (name.Length > 200) throw new ReidException("identity name longer than 200 characters");
    }

    private object Now() => TimeValue(DateTimeOffset.UtcNow);

    protected static long Long(object? v) => v is null or DBNull ? 0 : Convert.ToInt64(v, CultureInfo.InvariantCulture);

    internal static byte[] ToBlob(float[] v) => MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    internal static float[] FromBlob(byte[] b)
    {
        if (b.Length % sizeof(float) != 0) throw new ReidException($"stored embedding has {b.Length} bytes, not a whole number of floats");
        return MemoryMarshal.Cast<byte, float>(b).ToArray();
    }

    protected static void Bind(DbCommand cmd, params (string Name, object? Value)[] args)
    {
        foreach (var (n, v) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = n;
            p.Value = v ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
    }

    protected static int Exec(DbConnection c, string sql, params (string, object?)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        Bind(cmd, args);
        return cmd.ExecuteNonQuery();
    }

    protected static object? Scalar(DbConnection c, string sql, params (string, object?)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        Bind(cmd, args);
        var v = cmd.ExecuteScalar();
        return v is DBNull ? null : v;
    }
}
