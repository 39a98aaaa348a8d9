using Reid.Core;

namespace Reid.Data;

/// <summary>The data-set kinds the command line knows, by the name given to <c>--dataset</c>.</summary>
public enum DatasetKind { Market1501, Cuhk03, Folders, Csv }

/// <summary>What to load: a kind, its root (folder, or the CSV file) and how to pick queries.</summary>
public sealed record DatasetSpec(DatasetKind Kind, string Root, string? SplitDir = null, int QueryPerId = 0, int Seed = 0);

/// <summary>Loads any supported data set from a <see cref="DatasetSpec"/>.</summary>
public static class DatasetLoader
{
    public static readonly IReadOnlyDictionary<string, DatasetKind> Names =
        new Dictionary<string, DatasetKind>(StringComparer.OrdinalIgnoreCase)
        {
            ["market1501"] = DatasetKind.Market1501, ["market"] = DatasetKind.Market1501,
            ["cuhk03"] = DatasetKind.Cuhk03, ["folders"] = DatasetKind.Folders, ["csv"] = DatasetKind.Csv,
        };

    public static DatasetKind ParseKind(string name) =>
        Names.TryGetValue(name, out var kind) ? kind
            : throw new ReidException($"unknown data set kind '{name}' (known: market1501, cuhk03, folders, csv)");

    public static ReidDataset Load(DatasetSpec spec)
    {
        var dataset = spec.Kind switch
        {
            DatasetKind.Market1501 => spec.SplitDir is null ? Market1501Dataset.LoadFolder(spec.Root)
                                                            : Market1501Dataset.LoadSplit(spec.Root, spec.SplitDir),
            DatasetKind.Cuhk03 => Cuhk03Dataset.Load(spec.Root),
            DatasetKind.Folders => IdentityFolderDataset.Load(spec.Root, new QuerySelection(spec.SplitDir, spec.QueryPerId, spec.Seed)),
            DatasetKind.Csv => CsvDataset.Load(spec.Root, new QuerySelection(spec.SplitDir, spec.QueryPerId, spec.Seed)),
            _ => throw new ArgumentOutOfRangeException(nameof(spec)),
        };
        if (dataset.Query.Count == 0) throw new ReidException($"{spec.Root}: the data set has no query images");
        if (dataset.Gallery.Count == 0) throw new ReidException($"{spec.Root}: the data set has no gallery images");
        return dataset;
    }
}
