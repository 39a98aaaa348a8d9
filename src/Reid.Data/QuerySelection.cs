using Reid.Core;

namespace Reid.Data;

/// <summary>
/// How a labelled pool without a built-in protocol (folder per identity, CSV) is cut into query and gallery:
/// list files (<see cref="SplitDir"/>) or <see cref="QueryPerId"/> images per identity drawn with a seed.
/// </summary>
public sealed record QuerySelection(string? SplitDir = null, int QueryPerId = 0, int Seed = 0)
{
    /// <summary>
    /// Cuts <paramref name="pool"/> (records keyed by their name relative to the root).
    /// With <see cref="QueryPerId"/> N, an identity with more than N images gives N queries and the rest to the
    /// gallery; an identity with N or fewer images goes to the gallery only (as a negative for everybody else),
    /// since its queries could never be matched.
    /// </summary>
    public (List<ImageRecord> Query, List<ImageRecord> Gallery, List<ImageRecord>? Train) Apply(
        IReadOnlyList<(string Name, ImageRecord Record)> pool, string poolSource)
    {
        if (SplitDir is not null)
        {
            var byName = new Dictionary<string, ImageRecord>(StringComparer.Ordinal);
            foreach (var (name, record) in pool) byName[Normalise(name)] = record;
            var (q, g, t) = ListFile.ReadSplit(SplitDir);
            List<ImageRecord> Look(IReadOnlyList<ListFile.Entry> entries) => entries.Select(e =>
                byName.TryGetValue(Normalise(e.Name), out var r) ? r
                    : throw new ReidException($"{e.Source} line {e.Line}: '{e.Name}' is not in {poolSource}")).ToList();
            return (Look(q), Look(g), t is null ? null : Look(t));
        }
        if (QueryPerId <= 0)
            throw new ReidException($"{poolSource}: say how to pick queries: give --split DIR or --query-per-id N");

        var rng = new Random(Seed);
        var query = new List<ImageRecord>();
        var gallery = new List<ImageRecord>();
        foreach (var identity in pool.Select(p => p.Record).GroupBy(r => r.PersonId).OrderBy(g => g.Key))
        {
            var images = identity.OrderBy(r => r.Path, StringComparer.Ordinal).ToArray();
            if (images.Length <= QueryPerId) { gallery.AddRange(images); continue; }
            rng.Shuffle(images);
            query.AddRange(images.Take(QueryPerId));
            gallery.AddRange(images.Skip(QueryPerId));
        }
        return (query, gallery, null);
    }

    private static string Normalise(string name) => name.Replace('\\', '/');
}

/// <summary>
/// Maps free-form identity labels to person ids: labels that are all positive integers keep their value,
/// anything else is numbered 1..N in ordinal order (0 and -1 are reserved for Market-1501's distractors and junk).
/// </summary>
public static class IdentityLabels
{
    public static IReadOnlyDictionary<string, int> Map(IEnumerable<string> labels)
    {
        var distinct = labels.Distinct(StringComparer.Ordinal).ToList();
        var numeric = distinct.ToDictionary(l => l, l => int.TryParse(l, System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 ? v : -1, StringComparer.Ordinal);
        if (numeric.Values.All(v => v > 0) && numeric.Values.Distinct().Count() == numeric.Count) return numeric;
        distinct.Sort(StringComparer.Ordinal);
        return distinct.Select((l, i) => (l, i + 1)).ToDictionary(p => p.l, p => p.Item2, StringComparer.Ordinal);
    }
}
