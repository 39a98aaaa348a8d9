using Reid.Evaluation;

namespace Reid.Foundation.Tests.Evaluation;

public class ReRankerTests
{
    /// <summary>
    /// A plain transcription of the authors' reference algorithm: dense matrices, full sorts, set operations,
    /// no sparsity and no cleverness, in double precision.
    /// </summary>
    private static double[,] Reference(double[,] qg, double[,] qq, double[,] gg, int k1, int k2, double lambda)
    {
        int q = qg.GetLength(0), g = qg.GetLength(1), n = q + g;
        var d = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                d[i, j] = i < q ? (j < q ? qq[i, j] : qg[i, j - q]) : (j < q ? qg[j, i - q] : gg[i - q, j - q]);
        // square, divide each column by its maximum, transpose
        var dist = new double[n, n];
        for (var j = 0; j < n; j++)
        {
            var max = 0.0;
            for (var i = 0; i < n; i++) max = Math.Max(max, d[i, j] * d[i, j]);
            for (var i = 0; i < n; i++) dist[j, i] = d[i, j] * d[i, j] / max;
        }
        var rank = new int[n][];
        for (var i = 0; i < n; i++)
        {
            var row = i;
            rank[i] = Enumerable.Range(0, n).OrderBy(j => dist[row, j]).ThenBy(j => j).ToArray();
        }
        int[] KReciprocal(int i, int k) =>
            rank[i].Take(k + 1).Where(f => rank[f].Take(k + 1).Contains(i)).ToArray();

        var v = new double[n, n];
        var half = (int)Math.Round(k1 / 2.0, MidpointRounding.ToEven);
        for (var i = 0; i < n; i++)
        {
            var r = KReciprocal(i, k1);
            var expansion = r.ToList();
            foreach (var c in r)
            {
                var rc = KReciprocal(c, half);
                if (rc.Intersect(r).Count() > 2.0 / 3 * rc.Length) expansion.AddRange(rc);
            }
            var members = expansion.Distinct().ToArray();
            var sum = members.Sum(j => Math.Exp(-dist[i, j]));
            foreach (var j in members) v[i, j] = Math.Exp(-dist[i, j]) / sum;
        }
        if (k2 != 1)
        {
            var vqe = new double[n, n];
            for (var i = 0; i < n; i++)
                for (var j = 0; j < n; j++)
                    vqe[i, j] = rank[i].Take(k2).Average(r => v[r, j]);
            v = vqe;
        }
        var final = new double[q, g];
        for (var i = 0; i < q; i++)
            for (var j = 0; j < g; j++)
            {
                double minSum = 0;
                for (var c = 0; c < n; c++) minSum += Math.Min(v[i, c], v[q + j, c]);
                var jaccard = 1 - minSum / (2 - minSum);
                final[i, j] = jaccard * (1 - lambda) + dist[i, q + j] * lambda;
            }
        return final;
    }

    private static float[][] RandomEmbeddings(Random rng, int count, int dim, int identities)
    {
        var centres = Enumerable.Range(0, identities).Select(_ => Enumerable.Range(0, dim).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray()).ToArray();
        return Enumerable.Range(0, count).Select(i =>
            centres[i % identities].Select(c => c + 0.6f * ((float)rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    private static double[,] ToArray(DistanceMatrix m)
    {
        var a = new double[m.Rows, m.Columns];
        for (var i = 0; i < m.Rows; i++) for (var j = 0; j < m.Columns; j++) a[i, j] = m[i, j];
        return a;
    }

    [Theory]
    [InlineData(1, 25, 70, 20, 6, 0.3)]
    [InlineData(2, 12, 40, 5, 3, 0.5)]
    [InlineData(3, 10, 30, 7, 1, 0.0)]
    public void MatchesThePlainReferenceOnRandomData(int seed, int q, int g, int k1, int k2, double lambda)
    {
        var rng = new Random(seed);
        var all = RandomEmbeddings(rng, q + g, 16, 9);
        var query = all.Take(q).ToArray();
        var gallery = all.Skip(q).ToArray();
        var qg = DistanceMatrix.Compute(query, gallery, DistanceKind.Cosine);
        var qq = DistanceMatrix.Compute(query, query, DistanceKind.Cosine);
        var gg = DistanceMatrix.Compute(gallery, gallery, DistanceKind.Cosine);

        var fast = ReRanker.Apply(qg, qq, gg, new ReRankingOptions(k1, k2, lambda));
        var reference = Reference(ToArray(qg), ToArray(qq), ToArray(gg), k1, k2, lambda);

        Assert.Equal(DistanceKind.Derived, fast.Kind);
        for (var i = 0; i < q; i++)
            for (var j = 0; j < g; j++)
                Assert.True(Math.Abs(fast[i, j] - reference[i, j]) < 2e-4, $"[{i},{j}] {fast[i, j]} vs {reference[i, j]}");
    }

    [Fact]
    public void RefusesMismatchedMatricesAndBadParameters()
    {
        var a = new DistanceMatrix(2, 3, new float[6], DistanceKind.Cosine);
        Assert.Throws<ArgumentException>(() => ReRanker.Apply(a, new DistanceMatrix(2, 2, new float[4], DistanceKind.Cosine), new DistanceMatrix(2, 2, new float[4], DistanceKind.Cosine)));
        Assert.Throws<ArgumentException>(() => new ReRankingOptions(0, 6, 0.3).Validate());
    }
}
