namespace Reid.Evaluation;

/// <summary>
/// Cumulative match characteristic: the fraction of valid queries whose first correct match is within rank k,
/// for k = 1..<see cref="MaxRank"/>.
/// </summary>
public sealed class CmcCurve
{
    private readonly double[] _values;

    public CmcCurve(double[] values) => _values = values;

    public int MaxRank => _values.Length;
    public IReadOnlyList<double> Values => _values;

    /// <summary>The fraction at rank <paramref name="rank"/> (1-based); ranks beyond the curve read its last value.</summary>
    public double At(int rank)
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), "ranks start at 1");
        return _values.Length == 0 ? 0 : _values[Math.Min(rank, _values.Length) - 1];
    }

    /// <summary>A curve from each valid query's first-match rank (1-based).</summary>
    public static CmcCurve FromFirstMatchRanks(IEnumerable<int> firstMatchRanks, int maxRank)
    {
        var counts = new double[maxRank];
        var n = 0;
        foreach (var r in firstMatchRanks)
        {
            n++;
            if (r <= maxRank) counts[r - 1]++;
        }
        for (var i = 1; i < maxRank; i++) counts[i] += counts[i - 1];
        if (n > 0) for (var i = 0; i < maxRank; i++) counts[i] /= n;
        return new CmcCurve(counts);
    }
}
