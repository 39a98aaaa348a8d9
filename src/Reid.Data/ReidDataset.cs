namespace Reid.Data;

/// <summary>A data set split into query and gallery (and, when the source has one, a training list).</summary>
public sealed record ReidDataset(
    string Name,
    IReadOnlyList<ImageRecord> Query,
    IReadOnlyList<ImageRecord> Gallery,
    IReadOnlyList<ImageRecord>? Train = null)
{
    public int QueryIdentities => Query.Select(r => r.PersonId).Distinct().Count();
    public int GalleryIdentities => Gallery.Select(r => r.PersonId).Distinct().Count();
}
