using Reid.Core;

namespace Reid.Data;

/// <summary>
/// A folder per identity (<c>root/&lt;label&gt;/*.jpg</c>), cut into query and gallery by a
/// <see cref="QuerySelection"/>. There is no camera information, so no same-camera match is ignored.
/// </summary>
public static class IdentityFolderDataset
{
    public static ReidDataset Load(string root, QuerySelection selection)
    {
        if (!Directory.Exists(root)) throw new ReidException($"data set folder not found: {root}");
        var folders = Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal).ToList();
        if (folders.Count == 0) throw new ReidException($"{root}: no identity folders (expected {root}/<label>/*.jpg)");
        var ids = IdentityLabels.Map(folders.Select(Path.GetFileName)!);
        var pool = new List<(string, ImageRecord)>();
        foreach (var folder in folders)
        {
            var label = Path.GetFileName(folder);
            foreach (var file in ImageFiles.List(folder))
                pool.Add(($"{label}/{Path.GetFileName(file)}", new ImageRecord(file, ids[label], Camera: null)));
        }
        if (pool.Count == 0) throw new ReidException($"{root}: the identity folders hold no images");
        var (q, g, t) = selection.Apply(pool, root);
        return new ReidDataset("folders", q, g, t);
    }
}
