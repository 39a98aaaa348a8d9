using System.Numerics.Tensors;
using Reid.Core;

namespace Reid.Evaluation;

/// <summary>How a distance matrix was made, which decides how a distance reads as a similarity score.</summary>
public enum DistanceKind
{
    /// <summary>1 − cosine similarity: the score is the cosine similarity.</summary>
    Cosine,
    /// <summary>Euclidean distance: the score is −distance.</summary>
    Euclidean,
    /// <summary>Anything derived (re-ranked, fused with camera/time): the score is −distance.</summary>
    Derived,
}

/// <summary>
/// Distances between rows (queries) and columns (gallery), row-major; smaller is more alike. Ranking and
/// metrics take any matrix, whatever produced it (appearance, re-ranking, spatial-temporal fusion).
/// </summary>
public sealed class DistanceMatrix
{
    public int Rows { get; }
    public int Columns { get; }
    public DistanceKind Kind { get; }
    public float[] Values { get; }

    public DistanceMatrix(int rows, int columns, float[] values, DistanceKind kind)
    {
        if (rows < 0 || columns < 0 || values.Length != (long)rows * columns)
            throw new ArgumentException($"a {rows}x{columns} matrix needs {(long)rows * columns} values, got {values.Length}");
        (Rows, Columns, Values, Kind) = (rows, columns, values, kind);
    }

    public float this[int row, int column] => Values[(long)row * Columns + column];
    public ReadOnlySpan<float> Row(int row) => Values.AsSpan(row * Columns, Columns);

    /// <summary>The similarity score of a distance of this matrix (higher is more alike).</summary>
    public float Score(float distance) => Kind == DistanceKind.Cosine ? 1f - distance : -distance;

    public DistanceMatrix Transpose()
    {
        var t = new float[Values.Length];
        for (var r = 0; r < Rows; r++)
            for (var c = 0; c < Columns; c++) t[(long)c * Rows + r] = Values[(long)r * Columns + c];
        return new DistanceMatrix(Columns, Rows, t, Kind);
    }

    /// <summary>
    /// Distances between two sets of embeddings (all of one dimension). Cosine normalises each vector itself,
    /// so unnormalised embeddings are fine; euclidean is the plain (not squared) distance.
    /// </summary>
    public static DistanceMatrix Compute(IReadOnlyList<float[]> rows, IReadOnlyList<float[]> columns, DistanceKind kind)
    {
        if (kind == DistanceKind.Derived) throw new ArgumentException("only cosine or euclidean distances are computed from embeddings");
        var dim = rows.Count > 0 ? rows[0].Length : columns.Count > 0 ? columns[0].Length : 0;
        foreach (var v in rows.Concat(columns))
            if (v.Length != dim) throw new ReidException($"embeddings of different sizes ({dim} and {v.Length}) cannot be compared");

        var rowNorms = Norms(rows);
        var colNorms = Norms(columns);
        var values = new float[(long)rows.Count * columns.Count];
        var cols = columns.Count;
        Parallel.For(0, rows.Count, r =>
        {
            var q = rows[r];
            var output = values.AsSpan(r * cols, cols);
            for (var c = 0; c < cols; c++)
            {
                var dot = TensorPrimitives.Dot(q, columns[c]);
                output[c] = kind == DistanceKind.Cosine
                    ? 1f - dot / MathF.Max(rowNorms[r] * colNorms[c], 1e-12f)
                    : MathF.Sqrt(MathF.Max(rowNorms[r] * rowNorms[r] + colNorms[c] * colNorms[c] - 2f * dot, 0f));
            }
        });
        return new DistanceMatrix(rows.Count, columns.Count, values, kind);
    }

    private static float[] Norms(IReadOnlyList<float[]> v)
    {
        var n = new float[v.Count];
        for (var i = 0; i < v.Count; i++) n[i] = TensorPrimitives.Norm(v[i]);
        return n;
    }
}
