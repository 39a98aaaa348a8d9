namespace Reid.Video.Tracking;

/// <summary>
/// Minimum-cost bipartite assignment (the Hungarian method, shortest augmenting paths, O(n^2 m)) on a
/// rectangular cost matrix. Pairs whose cost is above <c>maxCost</c> (or not finite) are never matched:
/// they are treated as forbidden, not merely expensive, so a forbidden pair cannot displace a good one.
/// </summary>
public static class LinearAssignment
{
    public sealed record Result(IReadOnlyList<(int Row, int Col)> Matches, IReadOnlyList<int> UnmatchedRows,
        IReadOnlyList<int> UnmatchedCols);

    public static Result Solve(double[,] cost, double maxCost)
    {
        int rows = cost.GetLength(0), cols = cost.GetLength(1);
        var matches = new List<(int, int)>();
        if (rows > 0 && cols > 0)
        {
            // Forbidden pairs get a cost larger than any feasible full assignment, so the solver uses them
            // only when nothing else is possible; they are dropped afterwards.
            double big = 1;
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                if (Feasible(cost[i, j], maxCost)) big += Math.Abs(cost[i, j]);
            big *= 2;
            bool transpose = rows > cols;
            int n = transpose ? cols : rows, m = transpose ? rows : cols;
            var a = new double[n, m];
            for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double c = transpose ? cost[j, i] : cost[i, j];
                a[i, j] = Feasible(c, maxCost) ? c : big;
            }
            var rowOf = SolveSquareish(a, n, m);
            for (int j = 0; j < m; j++)
            {
                int i = rowOf[j];
                if (i < 0) continue;
                var (r, c) = transpose ? (j, i) : (i, j);
                if (Feasible(cost[r, c], maxCost)) matches.Add((r, c));
            }
            matches.Sort();
        }
        var matchedRows = matches.Select(x => x.Item1).ToHashSet();
        var matchedCols = matches.Select(x => x.Item2).ToHashSet();
        return new Result(matches,
            Enumerable.Range(0, rows).Where(r => !matchedRows.Contains(r)).ToList(),
            Enumerable.Range(0, cols).Where(c => !matchedCols.Contains(c)).ToList());
    }

    private static bool Feasible(double c, double maxCost) => double.IsFinite(c) && c <= maxCost;

    /// <summary>n &lt;= m: assigns every row to a distinct column; returns for each column its row or -1.</summary>
    private static int[] SolveSquareish(double[,] a, int n, int m)
    {
        // Potentials u (rows), v (columns); p[j] = row matched to column j (1-based, 0 = none).
        var u = new double[n + 1];
        var v = new double[m + 1];
        var p = new int[m + 1];
        var way = new int[m + 1];
        var minv = new double[m + 1];
        var used = new bool[m + 1];
        for (int i = 1; i <= n; i++)
        {
            p[0] = i;
            int j0 = 0;
            Array.Fill(minv, double.PositiveInfinity);
            Array.Fill(used, false);
            do
            {
                used[j0] = true;
                int i0 = p[j0], j1 = 0;
                double delta = double.PositiveInfinity;
                for (int j = 1; j <= m; j++)
                {
                    if (used[j]) continue;
                    double cur = a[i0 - 1, j - 1] - u[i0] - v[j];
                    if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                    if (minv[j] < delta) { delta = minv[j]; j1 = j; }
                }
                for (int j = 0; j <= m; j++)
                {
                    if (used[j]) { u[p[j]] += delta; v[j] -= delta; }
                    else minv[j] -= delta;
                }
                j0 = j1;
            } while (p[j0] != 0);
            do
            {
                int j1 = way[j0];
                p[j0] = p[j1];
                j0 = j1;
            } while (j0 != 0);
        }
        var rowOf = new int[m];
        for (int j = 1; j <= m; j++) rowOf[j - 1] = p[j] - 1;
        return rowOf;
    }
}
