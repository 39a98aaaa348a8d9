using Reid.Core;

namespace Reid.Data;

/// <summary>
/// Market-1501 and data sets named like it: the standard folder layout (<c>query/</c>,
/// <c>bounding_box_test/</c>, optional <c>bounding_box_train/</c>) or a split given as list files.
/// Junk (-1) and distractor (0000) crops are kept as records; the evaluation protocol decides what they count for.
/// </summary>
public static class Market1501Dataset
{
    public const string QueryFolder = "query", GalleryFolder = "bounding_box_test", TrainFolder = "bounding_box_train";

    /// <summary>The standard Market-1501 folder. Files that are not images (Thumbs.db) are skipped; misnamed images are errors.</summary>
    public static ReidDataset LoadFolder(string root)
    {
        if (!Directory.Exists(root)) throw new ReidException($"data set folder not found: {root}");
        var query = Path.Combine(root, QueryFolder);
        var gallery = Path.Combine(root, GalleryFolder);
        if (!Directory.Exists(query) || !Directory.Exists(gallery))
            throw new ReidException($"{root} is not a Market-1501 folder: it needs {QueryFolder}/ and {GalleryFolder}/ (or give --split)");
        var train = Path.Combine(root, TrainFolder);
        return new ReidDataset("market1501", ReadFolder(query), ReadFolder(gallery),
                               Directory.Exists(train) ? ReadFolder(train) : null);
    }

    /// <summary>A split as list files (query.txt, gallery.txt[, train.txt]) whose names are relative to <paramref name="root"/>.</summary>
    public static ReidDataset LoadSplit(string root, string splitDir)
    {
        if (!Directory.Exists(root)) throw new ReidException($"data set folder not found: {root}");
        var (q, g, t) = ListFile.ReadSplit(splitDir);
        return new ReidDataset($"market1501:{Path.GetFileName(Path.TrimEndingDirectorySeparator(splitDir))}",
                               FromList(root, q), FromList(root, g), t is null ? null : FromList(root, t));
    }

    private static List<ImageRecord> FromList(string root, IReadOnlyList<ListFile.Entry> entries) =>
        entries.Select(e => Market1501Name.Parse(e.Name, $"{e.Source} line {e.Line}").ToRecord(Path.Combine(root, e.Name))).ToList();

    private static List<ImageRecord> ReadFolder(string dir) =>
        ImageFiles.List(dir).Select(f => Market1501Name.Parse(f, dir).ToRecord(f)).ToList();
}
