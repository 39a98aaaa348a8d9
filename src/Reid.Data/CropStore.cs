using Microsoft.Data.Sqlite;
using Reid.Core;

namespace Reid.Data;

/// <summary>Where a mined crop came from: the video, the track in it, the frame, and the box as "x,y,w,h".</summary>
public sealed record CropOrigin(string Source, int Track, long Frame, string Box)
{
    /// <summary>The name the crop would have as a loose file, `NumFrame_BB.jpg` style: track, frame and box.</summary>
    public string Name => $"t{Track:D4}_f{Frame:D6}_{Box.Replace(',', '_')}.jpg";
}

/// <summary>
/// Unlabelled person crops packed in one SQLite file (JPEG bytes and their origin), instead of a million loose files:
/// one file to copy, one directory entry, reads by id from any thread. Videos are recorded by path and size when
/// mined, so mining the same video twice is skipped.
/// </summary>
public sealed class CropStore : IDisposable
{
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;

    public string Path { get; }

    private CropStore(string path, bool create)
    {
        Path = System.IO.Path.GetFullPath(path);
        if (!create && !File.Exists(Path)) throw new ReidException($"crop store '{path}' not found");
        var mode = create ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = mode, Pooling = true }.ToString();
        _writer = new SqliteConnection(_connectionString);
        try
        {
            _writer.Open();
            // 8 KiB pages (a new store only; an existing one keeps its own): person crops are ~2-4 KB, and SQLite's default
            // 4 KiB pages hold about one such row each, which costs as much disk as loose files (bench crop-store: 3.8 KB a
            // 2.3 KB crop at 4 KiB, 2.7 KB at 8 KiB). The index on source lets Count and Ids() read a small index instead of
            // every JPEG in the table.
            Execute(_writer, """
                PRAGMA page_size = 8192;
                PRAGMA journal_mode = WAL;
                CREATE TABLE IF NOT EXISTS store (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS sources (path TEXT PRIMARY KEY, bytes INTEGER NOT NULL, crops INTEGER NOT NULL, mined TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS crops (id INTEGER PRIMARY KEY, source TEXT NOT NULL, track INTEGER NOT NULL,
                                                  frame INTEGER NOT NULL, box TEXT NOT NULL, jpeg BLOB NOT NULL);
                CREATE INDEX IF NOT EXISTS crops_source ON crops (source);
                INSERT OR IGNORE INTO store (key, value) VALUES ('format', 'reid-crops/1');
                """);
            using var check = _writer.CreateCommand();
            check.CommandText = "SELECT value FROM store WHERE key = 'format'";
            if (check.ExecuteScalar() as string != "reid-crops/1") throw new ReidException($"'{path}' is not a reid crop store");
        }
        catch (SqliteException e)
        {
            _writer.Dispose();
            throw new ReidException($"crop store '{path}': {e.Message}");
        }
    }

    /// <summary>Opens the store at <paramref name="path"/>, creating it when missing.</summary>
    public static CropStore OpenOrCreate(string path) => new(path, create: true);

    /// <summary>Opens an existing store; a missing file or another kind of file is a <see cref="ReidException"/>.</summary>
    public static CropStore Open(string path) => new(path, create: false);

    public int Count => (int)(long)Scalar("SELECT COUNT(*) FROM crops")!;

    /// <summary>Whether this video (same path and size) was mined into the store already.</summary>
    public bool HasSource(string path, long bytes)
    {
        using var c = _writer.CreateCommand();
        c.CommandText = "SELECT bytes FROM sources WHERE path = $p";
        c.Parameters.AddWithValue("$p", path);
        return c.ExecuteScalar() is long stored && stored == bytes;
    }

    /// <summary>Adds one video's crops in one transaction and records the video as mined: all or nothing.</summary>
    public void AddSource(string path, long bytes, IEnumerable<(CropOrigin Origin, byte[] Jpeg)> crops)
    {
        using var tx = _writer.BeginTransaction();
        using var insert = _writer.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO crops (source, track, frame, box, jpeg) VALUES ($s, $t, $f, $b, $j)";
        var (s, t, f, b, j) = (insert.Parameters.Add("$s", SqliteType.Text), insert.Parameters.Add("$t", SqliteType.Integer),
            insert.Parameters.Add("$f", SqliteType.Integer), insert.Parameters.Add("$b", SqliteType.Text), insert.Parameters.Add("$j", SqliteType.Blob));
        int n = 0;
        foreach (var (origin, jpeg) in crops)
        {
            (s.Value, t.Value, f.Value, b.Value, j.Value) = (origin.Source, origin.Track, origin.Frame, origin.Box, jpeg);
            insert.ExecuteNonQuery();
            n++;
        }
        using var source = _writer.CreateCommand();
        source.Transaction = tx;
        source.CommandText = "INSERT OR REPLACE INTO sources (path, bytes, crops, mined) VALUES ($p, $n, $c, $m)";
        source.Parameters.AddWithValue("$p", path);
        source.Parameters.AddWithValue("$n", bytes);
        source.Parameters.AddWithValue("$c", n);
        source.Parameters.AddWithValue("$m", DateTimeOffset.UtcNow.ToString("O"));
        source.ExecuteNonQuery();
        tx.Commit();
    }

    /// <summary>Every crop's id, in insertion order.</summary>
    public IReadOnlyList<long> Ids()
    {
        using var c = _writer.CreateCommand();
        // From the small index (every index carries the row id), not the table whose pages are mostly JPEG bytes.
        c.CommandText = "SELECT id FROM crops INDEXED BY crops_source";
        using var r = c.ExecuteReader();
        var ids = new List<long>();
        while (r.Read()) ids.Add(r.GetInt64(0));
        ids.Sort();
        return ids;
    }

    /// <summary>The JPEG bytes of crop <paramref name="id"/>; safe from several threads at once (each read opens a pooled connection).</summary>
    public byte[] ReadJpeg(long id)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var c = connection.CreateCommand();
        c.CommandText = "SELECT jpeg FROM crops WHERE id = $id";
        c.Parameters.AddWithValue("$id", id);
        return c.ExecuteScalar() as byte[] ?? throw new ReidException($"crop store '{Path}' has no crop {id}");
    }

    public CropOrigin? Origin(long id)
    {
        using var c = _writer.CreateCommand();
        c.CommandText = "SELECT source, track, frame, box FROM crops WHERE id = $id";
        c.Parameters.AddWithValue("$id", id);
        using var r = c.ExecuteReader();
        return r.Read() ? new CropOrigin(r.GetString(0), r.GetInt32(1), r.GetInt64(2), r.GetString(3)) : null;
    }

    private object? Scalar(string sql)
    {
        using var c = _writer.CreateCommand();
        c.CommandText = sql;
        return c.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var c = connection.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    public void Dispose() => _writer.Dispose();
}
