using System.Globalization;

namespace Reid.SpatialTemporal;

/// <summary>What a fusion had to go on: counts of pairs by evidence, and warnings naming anything missing.</summary>
public sealed record FusionReport(IReadOnlyDictionary<EvidenceKind, long> Pairs, IReadOnlyList<string> Warnings)
{
    public long Learned => Pairs.GetValueOrDefault(EvidenceKind.Learned);
}

/// <summary>Fused distances (row-major, rows × columns) and what the fusion had to go on.</summary>
public sealed record FusedDistances(int Rows, int Columns, float[] Values, FusionReport Report);

/// <summary>
/// Fuses a matrix of appearance similarities with the travel-time model: every entry becomes
/// distance = −ln(joint score), so that the two evidences add and the result stays a distance (smaller is more
/// alike) that ranking, metrics and k-reciprocal re-ranking take as they are. Re-ranking comes after fusion,
/// on fused query–gallery, query–query and gallery–gallery distances, as in ST-ReID: the neighbour sets it
/// builds are then spatial-temporally consistent.
/// Sightings without camera or time get the uniform travel-time probability: a row whose sighting is unknown
/// is ranked by appearance alone, and the report says so.
/// </summary>
public static class SpatialTemporalFusion
{
    public static FusedDistances Fuse(SpatialTemporalModel model, ReadOnlySpan<float> similarities,
                                      IReadOnlyList<CameraTime> rows, IReadOnlyList<CameraTime> columns, string rowName = "queries",
                                      string columnName = "gallery images")
    {
        if (similarities.Length != (long)rows.Count * columns.Count)
            throw new ArgumentException($"{similarities.Length} similarities for {rows.Count}x{columns.Count} sightings");
        var values = new float[similarities.Length];
        var counts = new long[Enum.GetValues<EvidenceKind>().Length];
        var cols = columns.Count;
        for (var r = 0; r < rows.Count; r++)
        {
            var a = rows[r];
            for (var c = 0; c < cols; c++)
            {
                var i = r * cols + c;
                var evidence = model.Evidence(a, columns[c]);
                counts[(int)evidence.Kind]++;
                values[i] = (float)-Math.Log(model.Fusion.Joint(similarities[i], evidence.Probability));
            }
        }
        var pairs = Enum.GetValues<EvidenceKind>().ToDictionary(k => k, k => counts[(int)k]);
        return new FusedDistances(rows.Count, cols, values, new FusionReport(pairs, Warnings(model, rows, columns, rowName, columnName, pairs)));
    }

    /// <summary>Warnings naming what is missing: sightings without camera or time, cameras the model never learned.</summary>
    public static IReadOnlyList<string> Warnings(SpatialTemporalModel model, IReadOnlyList<CameraTime> rows, IReadOnlyList<CameraTime> columns,
                                                 string rowName, string columnName, IReadOnlyDictionary<EvidenceKind, long>? pairs = null)
    {
        var warnings = new List<string>();
        foreach (var (set, name) in new[] { (rows, rowName), (columns, columnName) })
        {
            var noCamera = set.Count(s => s.Camera is null);
            var noTime = set.Count(s => s.Camera is not null && !(s.Timestamp is { } t && double.IsFinite(t)));
            if (noCamera > 0) warnings.Add(Inv($"spatial-temporal: {noCamera} of {set.Count} {name} have no camera; they are ranked by appearance alone"));
            if (noTime > 0) warnings.Add(Inv($"spatial-temporal: {noTime} of {set.Count} {name} have no timestamp; they are ranked by appearance alone"));
        }
        var known = model.Cameras.ToHashSet();
        var unknown = rows.Concat(columns).Select(s => s.Camera).OfType<string>().Distinct().Where(c => !known.Contains(c)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            warnings.Add($"spatial-temporal: the model learned no travel times for camera(s) {string.Join(", ", unknown)}; pairs with them get no time evidence");
        if (pairs is not null && pairs.GetValueOrDefault(EvidenceKind.Learned) == 0 && rows.Count > 0 && columns.Count > 0)
            warnings.Add("spatial-temporal: no pair had learned travel-time evidence; the ranking is appearance alone");
        return warnings;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
