using Reid.Core;

namespace Reid.Data;

/// <summary>
/// A split list: one image name per line, relative to the data set's root. Blank lines and lines starting
/// with '#' are skipped; every entry remembers its line so errors can point at it.
/// </summary>
public static class ListFile
{
    public readonly record struct Entry(string Name, int Line, string Source);

    public static IReadOnlyList<Entry> Read(string path)
    {
        if (!File.Exists(path)) throw new ReidException($"split list not found: {path}");
        var entries = new List<Entry>();
        var lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            if (line.Contains('\0'))
                throw new ReidException($"{path} line {lineNo}: not a text line (binary data in a split list?)");
            if (Path.IsPathRooted(line) || line.Split('/', '\\').Contains(".."))
                throw new ReidException($"{path} line {lineNo}: '{line}' must be a name relative to the data set's root");
            entries.Add(new Entry(line, lineNo, path));
        }
        return entries;
    }

    /// <summary>The split's query and gallery lists (and train.txt when present).</summary>
    public static (IReadOnlyList<Entry> Query, IReadOnlyList<Entry> Gallery, IReadOnlyList<Entry>? Train) ReadSplit(string splitDir)
    {
        if (!Directory.Exists(splitDir)) throw new ReidException($"split folder not found: {splitDir}");
        var train = Path.Combine(splitDir, "train.txt");
        return (Read(Path.Combine(splitDir, "query.txt")), Read(Path.Combine(splitDir, "gallery.txt")),
                File.Exists(train) ? Read(train) : null);
    }
}
