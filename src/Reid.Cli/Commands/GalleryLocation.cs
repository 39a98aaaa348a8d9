using System.CommandLine;
using Reid.Gallery;

namespace Reid.Cli.Commands;

/// <summary>
/// The options that name a gallery: `--data DIR` (SQLite in DIR, the default) or `--database CONNSTRING`
/// (PostgreSQL, shared by several nodes; --data then only names this node's local files).
/// </summary>
internal sealed record GalleryLocation(Option<string?> Data, Option<string?> Database)
{
    public const string DatabaseHelp =
        "PostgreSQL gallery shared by several nodes, as an Npgsql connection string: \"Host=db;Database=reid;Username=reid\" " +
        "(password via PGPASSWORD or ~/.pgpass rather than on the command line)";

    public IGalleryStore Open(ParseResult parse) => GalleryStore.Open(parse.GetValue(Data), parse.GetValue(Database));
}

internal static class GalleryLocationExtensions
{
    /// <summary>Lets a command's collection initializer take both options at once; naming neither is bad usage (exit 2).</summary>
    public static void Add(this Command command, GalleryLocation location)
    {
        command.Options.Add(location.Data);
        command.Options.Add(location.Database);
        command.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValue(location.Data)) && string.IsNullOrWhiteSpace(result.GetValue(location.Database)))
                result.AddError("name the gallery: --data DIR (SQLite) or --database \"Host=…;Database=…\" (PostgreSQL)");
        });
    }
}
