namespace Reid.Training.Adaptation;

/// <summary>
/// DBSCAN (Ester et al. 1996) over a precomputed distance matrix: a point with at least <c>minSamples</c> points
/// (itself included) within <c>eps</c> is a core point; clusters are the core points connected through such
/// neighbourhoods plus the border points they reach; everything else is noise (label −1). Labels are numbered in
/// order of each cluster's first point, so the result is deterministic.
/// </summary>
public static class Dbscan
{
    public const int Noise = -1;

    /// <param name="distances">row-major n x n, symmetric.</param>
    public static int[] Cluster(ReadOnlySpan<float> distances, int n, double eps, int minSamples)
    {
        if (distances.Length != (long)n * n) throw new ArgumentException($"{distances.Length} distances do not form a {n} x {n} matrix");
        if (eps <= 0) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be above 0");
        if (minSamples < 1) throw new ArgumentOutOfRangeException(nameof(minSamples), minSamples, "min_samples must be at least 1");
        var neighbours = new int[n][];
        for (var i = 0; i < n; i++)
        {
            var row = distances.Slice(i * n, n);
            var list = new List<int>();
            for (var j = 0; j < n; j++) if (row[j] <= eps) list.Add(j);
            neighbours[i] = list.ToArray();
        }
        var labels = new int[n];
        Array.Fill(labels, int.MinValue); // unvisited
        var next = 0;
        var queue = new Queue<int>();
        for (var i = 0; i < n; i++)
        {
            if (labels[i] != int.MinValue) continue;
            if (neighbours[i].Length < minSamples) { labels[i] = Noise; continue; }
            var id = next++;
            labels[i] = id;
            queue.Enqueue(i);
            while (queue.TryDequeue(out var p))
            {
                if (neighbours[p].Length < minSamples) continue; // a border point: joins, does not expand
                foreach (var q in neighbours[p])
                {
                    if (labels[q] == Noise) labels[q] = id; // noise reached from a core point is a border point
                    if (labels[q] != int.MinValue) continue;
                    labels[q] = id;
                    queue.Enqueue(q);
                }
            }
        }
        return labels;
    }
}
