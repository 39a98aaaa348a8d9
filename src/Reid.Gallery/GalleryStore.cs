using Reid.Core;

namespace Reid.Gallery;

/// <summary>Opens the gallery a user names: a data directory (SQLite, the default) or a PostgreSQL database.</summary>
public static class GalleryStore
{
    /// <summary>The embedded SQLite gallery in <paramref name="dataDirectory"/>.</summary>
    public static SqliteGalleryStore Open(string dataDirectory) => SqliteGalleryStore.Open(dataDirectory);

    /// <summary>
    /// PostgreSQL when <paramref name="database"/> (an Npgsql connection string) is given, with
    /// <paramref name="dataDirectory"/> for this node's local files; else SQLite in <paramref name="dataDirectory"/>.
    /// </summary>
    public static IGalleryStore Open(string? dataDirectory, string? database)
    {
        if (!string.IsNullOrWhiteSpace(database)) return PostgresGalleryStore.Open(database, dataDirectory);
        if (string.IsNullOrWhiteSpace(dataDirectory))
            throw new ReidException("name the gallery: --data DIR (SQLite) or --database \"Host=…;Database=…\" (PostgreSQL)");
        return SqliteGalleryStore.Open(dataDirectory);
    }
}
