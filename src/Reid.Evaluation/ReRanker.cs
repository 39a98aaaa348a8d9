namespace Reid.Evaluation;

/// <summary>k-reciprocal re-ranking parameters (Zhong et al., CVPR 2017); the defaults are the paper's.</summary>
public sealed record ReRankingOptions(int K1 = 20, int K2 = 6, double Lambda = 0.3)
{
    public void Validate()
    {
        if (K1 < 1 || K2 < 1) throw new ArgumentException("re-ranking needs k1 >= 1 and k2 >= 1");
        if (Lambda is < 0 or > 1) throw new ArgumentException("re-ranking lambda must be in [0, 1]");
    }
}

/// <summary>
/// k-reciprocal re-ranking (Zhong, Zheng, Cao, Li: "Re-ranking Person Re-identification with k-reciprocal
/// Encoding", CVPR 2017). The final distance mixes the Jaccard distance of k-reciprocal neighbour sets (with
/// local query expansion over k2 neighbours) and the original distance: (1 − λ)·Jaccard + λ·original.
/// Follows the authors' reference code, including its conventions: distances are squared and each row divided
/// by its maximum; neighbour lists include the image itself. The neighbour vectors are sparse (a few dozen
/// entries), so everything after the n² distance matrix is near-linear: seconds on thousands of images.
/// </summary>
public static class ReRanker
{
    /// <summary>Re-ranks query–gallery distances given also the query–query and gallery–gallery distances (any metric).</summary>
    public static DistanceMatrix Apply(DistanceMatrix queryGallery, DistanceMatrix queryQuery, DistanceMatrix galleryGallery,
                                       ReRankingOptions? options = null)
    {
        options ??= new ReRankingOptions();
        options.Validate();
        int q = queryGallery.Rows, g = queryGallery.Columns, n = q + g;
        if (queryQuery.Rows != q || queryQuery.Columns != q || galleryGallery.Rows != g || galleryGallery.Columns != g)
            throw new ArgumentException("re-ranking needs query-gallery, query-query and gallery-gallery matrices of matching sizes");

        var dist = NormalisedSquared(queryGallery, queryQuery, galleryGallery);
        var v = ExpandedNeighbourVectors(dist, n, options);

        // 3. Jaccard distance between each query's vector and every gallery image's, through an inverted index.
        var inverted = Inverted(v, n);
        var result = new float[(long)q * g];
        var lambda = (float)options.Lambda;
        Parallel.For(0, q, () => new float[n], (i, _, minSum) =>
        {
            Array.Clear(minSum);
            var row = v[i];
            for (var t = 0; t < row.Index.Length; t++)
            {
                var vi = row.Value[t];
                foreach (var (r, vr) in inverted[row.Index[t]]) minSum[r] += MathF.Min(vi, vr);
            }
            for (var j = 0; j < g; j++)
            {
                var m = minSum[q + j];
                var jaccard = 1f - m / (2f - m);
                result[(long)i * g + j] = jaccard * (1 - lambda) + dist[(long)i * n + q + j] * lambda;
            }
            return minSum;
        }, _ => { });
        return new DistanceMatrix(q, g, result, DistanceKind.Derived);
    }

    /// <summary>
    /// The Jaccard distance of k-reciprocal neighbour sets among one set of images (no original-distance term): what
    /// clustering-based unsupervised ReID clusters on (Zhong et al. 2017; used so by SpCL and Cluster Contrast), as it
    /// joins two images only when their neighbourhoods agree. <paramref name="all"/> is the images' square distance matrix.
    /// </summary>
    public static DistanceMatrix Jaccard(DistanceMatrix all, int k1 = 30, int k2 = 6)
    {
        var options = new ReRankingOptions(k1, k2, 0);
        options.Validate();
        var n = all.Rows;
        if (all.Columns != n) throw new ArgumentException($"Jaccard distances need a square matrix, not {all.Rows} x {all.Columns}");
        var dist = NormalisedSquared(n, (row, col) => all[row, col]);
        var v = ExpandedNeighbourVectors(dist, n, options);
        var inverted = Inverted(v, n);
        var result = new float[(long)n * n];
        Parallel.For(0, n, () => new float[n], (i, _, minSum) =>
        {
            Array.Clear(minSum);
            var row = v[i];
            for (var t = 0; t < row.Index.Length; t++)
            {
                var vi = row.Value[t];
                foreach (var (r, vr) in inverted[row.Index[t]]) minSum[r] += MathF.Min(vi, vr);
            }
            var o = (long)i * n;
            for (var j = 0; j < n; j++) { var m = minSum[j]; result[o + j] = 1f - m / (2f - m); }
            return minSum;
        }, _ => { });
        return new DistanceMatrix(n, n, result, DistanceKind.Derived);
    }

    /// <summary>Each image's k-reciprocal set, expanded and weighted (step 1), averaged over its k2 nearest (step 2).</summary>
    private static SparseRow[] ExpandedNeighbourVectors(float[] dist, int n, ReRankingOptions options)
    {
        var topCount = Math.Min(options.K1 + 1, n);
        var top = TopNeighbours(dist, n, topCount);
        var halfK = Math.Min((int)Math.Round(options.K1 / 2.0, MidpointRounding.ToEven) + 1, n);

        // 1. Each image's k-reciprocal set, expanded by its members' half-size sets, weighted by exp(−d).
        var v = new SparseRow[n];
        Parallel.For(0, n, i =>
        {
            var reciprocal = Reciprocal(top, i, topCount);
            var expansion = new HashSet<int>(reciprocal);
            foreach (var c in reciprocal)
            {
                var candidate = Reciprocal(top, c, halfK);
                var common = candidate.Count(reciprocal.Contains);
                if (common > 2.0 / 3.0 * candidate.Length) expansion.UnionWith(candidate);
            }
            var idx = expansion.ToArray();
            Array.Sort(idx);
            var w = new float[idx.Length];
            double sum = 0;
            for (var k = 0; k < idx.Length; k++) { w[k] = MathF.Exp(-dist[(long)i * n + idx[k]]); sum += w[k]; }
            for (var k = 0; k < idx.Length; k++) w[k] = (float)(w[k] / sum);
            v[i] = new SparseRow(idx, w);
        });

        // 2. Local query expansion: each vector becomes the mean of its k2 nearest neighbours' vectors.
        if (options.K2 > 1)
        {
            var k2 = Math.Min(options.K2, n);
            var expanded = new SparseRow[n];
            Parallel.For(0, n, () => new float[n], (i, _, acc) =>
            {
                var touched = new List<int>();
                for (var k = 0; k < k2; k++)
                {
                    var row = v[top[i][k]];
                    for (var t = 0; t < row.Index.Length; t++)
                    {
                        if (acc[row.Index[t]] == 0) touched.Add(row.Index[t]);
                        acc[row.Index[t]] += row.Value[t];
                    }
                }
                touched.Sort();
                var vals = new float[touched.Count];
                for (var t = 0; t < touched.Count; t++) { vals[t] = acc[touched[t]] / k2; acc[touched[t]] = 0; }
                expanded[i] = new SparseRow(touched.ToArray(), vals);
                return acc;
            }, _ => { });
            v = expanded;
        }
        return v;

    }

    private static List<(int Row, float Value)>[] Inverted(SparseRow[] v, int n)
    {
        var inverted = new List<(int Row, float Value)>[n];
        for (var c = 0; c < n; c++) inverted[c] = [];
        for (var r = 0; r < n; r++)
            for (var t = 0; t < v[r].Index.Length; t++) inverted[v[r].Index[t]].Add((r, v[r].Value[t]));
        return inverted;
    }

    private readonly record struct SparseRow(int[] Index, float[] Value);

    /// <summary>
    /// The (query+gallery)² matrix of squared distances, entry [i, j] = d(j, i)² / max_k d(k, i)² — the reference
    /// code's column normalisation followed by a transpose (for a symmetric metric, each row over its maximum).
    /// </summary>
    private static float[] NormalisedSquared(DistanceMatrix qg, DistanceMatrix qq, DistanceMatrix gg)
    {
        int q = qg.Rows, g = qg.Columns;
        return NormalisedSquared(q + g, (row, col) => row < q
            ? (col < q ? qq[row, col] : qg[row, col - q])
            : (col < q ? qg[col, row - q] : gg[row - q, col - q]));
    }

    private static float[] NormalisedSquared(int n, Func<int, int, float> D)
    {
        var colMax = new float[n];
        Parallel.For(0, n, col =>
        {
            var m = 0f;
            for (var row = 0; row < n; row++) { var d = D(row, col); m = MathF.Max(m, d * d); }
            colMax[col] = m > 0 ? m : 1f;
        });
        var dist = new float[(long)n * n];
        Parallel.For(0, n, i =>
        {
            var inv = 1f / colMax[i];
            var row = dist.AsSpan((int)((long)i * n), n);
            for (var j = 0; j < n; j++) { var d = D(j, i); row[j] = d * d * inv; }
        });
        return dist;
    }

    /// <summary>Each row's <paramref name="count"/> nearest columns, nearest first (ties by index).</summary>
    private static int[][] TopNeighbours(float[] dist, int n, int count)
    {
        var top = new int[n][];
        Parallel.For(0, n, i =>
        {
            var row = dist.AsSpan((int)((long)i * n), n);
            var best = new int[count];
            var bestD = new float[count];
            var size = 0;
            for (var j = 0; j < n; j++)
            {
                var d = row[j];
                if (size == count && d >= bestD[size - 1]) continue;
                var pos = size == count ? size - 1 : size++;
                while (pos > 0 && bestD[pos - 1] > d) { best[pos] = best[pos - 1]; bestD[pos] = bestD[pos - 1]; pos--; }
                best[pos] = j; bestD[pos] = d;
            }
            top[i] = best;
        });
        return top;
    }

    /// <summary>The members f of i's first <paramref name="k"/> neighbours that have i among their own first k.</summary>
    private static int[] Reciprocal(int[][] top, int i, int k)
    {
        var result = new List<int>(k);
        for (var a = 0; a < k; a++)
        {
            var f = top[i][a];
            if (Array.IndexOf(top[f], i, 0, k) >= 0) result.Add(f);
        }
        return result.ToArray();
    }
}
