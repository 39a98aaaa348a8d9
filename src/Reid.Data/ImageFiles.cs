namespace Reid.Data;

/// <summary>Lists the image files of a folder in a stable (ordinal) order.</summary>
public static class ImageFiles
{
    public static readonly IReadOnlySet<string> Extensions =
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png" };

    public static bool IsImage(string path) => Extensions.Contains(Path.GetExtension(path));

    public static IReadOnlyList<string> List(string dir, bool recursive = false)
    {
        var files = Directory.EnumerateFiles(dir, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly)
            .Where(IsImage).ToList();
        files.Sort(StringComparer.Ordinal);
        return files;
    }
}
