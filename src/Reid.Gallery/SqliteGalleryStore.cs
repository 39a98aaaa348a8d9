using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Reid.Core;

namespace Reid.Gallery;

/// <summary>
/// The embedded gallery (the default): one SQLite database (WAL) in a data directory. SQLite has one writer at a
/// time, so ids grow in commit order by construction. Erasure: `secure_delete` overwrites the freed pages and a
/// WAL checkpoint follows, so erased data does not linger in the file.
/// </summary>
public sealed class SqliteGalleryStore : SqlGalleryStore
{
    public const string DatabaseFileName = "gallery.db";

    private readonly string _connectionString;

    public override string DataDirectory { get; }
    public string DatabasePath { get; }
    public override string Location => DataDirectory;

    private SqliteGalleryStore(string dataDirectory)
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
    }

    /// <summary>Opens (creating if needed) the gallery in <paramref name="dataDirectory"/> and applies pending migrations.</summary>
    public static SqliteGalleryStore Open(string dataDirectory)
    {
        if (string.IsNullOrWhiteSpace(dataDirectory)) throw new ReidException("gallery data directory not given");
        try { Directory.CreateDirectory(dataDirectory); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new ReidException($"cannot create gallery directory {dataDirectory}: {e.Message}", e); }
        var store = new SqliteGalleryStore(dataDirectory);
        try
        {
            using var c = store.Connect();
            Exec(c, "PRAGMA journal_mode=WAL");
            Exec(c, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER PRIMARY KEY, applied TEXT NOT NULL)");
            store.Migrate(c, Migrations);
        }
        catch (SqliteException e) { throw new ReidException($"cannot open gallery database {store.DatabasePath}: {e.Message}", e); }
        return store;
    }

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
        // 2: embeddings get an AUTOINCREMENT id. A plain rowid is max(rowid)+1, so after the newest rows were
        // deleted (erasing the last enrolled person) the next enrolment reused their numbers, and a running index,
        // which picks up rows above the last number it saw, never saw it: enrolled but not findable until restart.
        // AUTOINCREMENT never hands out a number twice; existing rows keep theirs.
        """
        CREATE TABLE embeddings_v2(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            sighting_id INTEGER NOT NULL REFERENCES sightings(id) ON DELETE CASCADE,
            model_id TEXT NOT NULL, dimension INTEGER NOT NULL, vector BLOB NOT NULL,
            UNIQUE(model_id, sighting_id));
        INSERT INTO embeddings_v2(id, sighting_id, model_id, dimension, vector)
            SELECT rowid, sighting_id, model_id, dimension, vector FROM embeddings ORDER BY rowid;
        DROP TABLE embeddings;
        ALTER TABLE embeddings_v2 RENAME TO embeddings;
        CREATE INDEX embeddings_sighting ON embeddings(sighting_id);
        """,
    ];

    protected override DbConnection Connect()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        // Per-connection settings: cascades need foreign_keys; secure_delete zeroes erased data;
        // synchronous=FULL makes each committed enrolment durable, not only atomic.
        Exec(c, "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000");
        return c;
    }

    // BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default): takes the single write lock at once.
    protected override DbTransaction BeginWrite(DbConnection c) => ((SqliteConnection)c).BeginTransaction(deferred: false);

    protected override string EmbeddingRowId => "id";

    // REPLACE deletes the old row and inserts a new one: a replaced vector gets a new (never used) id, so readers see it.
    protected override string UpsertEmbedding(string source) =>
        $"INSERT OR REPLACE INTO embeddings(sighting_id, model_id, dimension, vector) {source}";

    protected override string UpsertThreshold =>
        "INSERT OR REPLACE INTO thresholds(model_id, score, far, source, created) VALUES (@m, @s, @f, @src, @t)";

    // SQLite's LIKE ignores ASCII case already.
    protected override string CaseInsensitiveLike => "LIKE";

    protected override object TimeValue(DateTimeOffset t) => t.ToString("O");

    protected override DateTimeOffset ReadTime(DbDataReader r, int i) =>
        DateTimeOffset.Parse(r.GetString(i), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    protected override IEnumerable<string> EngineProblems(DbConnection c)
    {
        var integrity = (string)Scalar(c, "PRAGMA integrity_check")!;
        if (integrity != "ok") yield return $"integrity_check: {integrity}";
    }

    protected override void AfterErasure(DbConnection c) => Exec(c, "PRAGMA wal_checkpoint(TRUNCATE)");
}
