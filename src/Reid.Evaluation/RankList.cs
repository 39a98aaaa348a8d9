namespace Reid.Evaluation;

/// <summary>One ranked gallery entry: its index in the gallery list, distance, and what it is to the query.</summary>
public readonly record struct RankedMatch(int GalleryIndex, float Distance, PairRelation Relation);

/// <summary>
/// A query's gallery ranked by increasing distance, ignored images removed. Ties keep gallery order (a stable
/// sort), so results never depend on the sort algorithm.
/// </summary>
public sealed class RankList
{
    public int QueryIndex { get; }
    public IReadOnlyList<RankedMatch> Matches { get; }

    public RankList(int queryIndex, IReadOnlyList<RankedMatch> matches) => (QueryIndex, Matches) = (queryIndex, matches);

    /// <summary>Ranks one row of <paramref name="distances"/>; <paramref name="relation"/> says what each gallery image is.</summary>
    public static RankList Rank(DistanceMatrix distances, int queryIndex, Func<int, PairRelation> relation, int? keep = null)
    {
        var row = distances.Row(queryIndex);
        var order = new int[row.Length];
        var keys = row.ToArray();
        for (var i = 0; i < order.Length; i++) order[i] = i;
        // Array.Sort is introspective (unstable): sort (distance, index) pairs to make ties deterministic.
        Array.Sort(order, (a, b) => keys[a] != keys[b] ? keys[a].CompareTo(keys[b]) : a.CompareTo(b));
        var matches = new List<RankedMatch>(keep ?? order.Length);
        foreach (var g in order)
        {
            var rel = relation(g);
            if (rel == PairRelation.Ignored) continue;
            matches.Add(new RankedMatch(g, keys[g], rel));
            if (keep is { } k && matches.Count >= k) break;
        }
        return new RankList(queryIndex, matches);
    }
}
