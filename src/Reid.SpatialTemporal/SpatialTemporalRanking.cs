using Reid.Core;
using Reid.Data;
using Reid.Evaluation;

namespace Reid.SpatialTemporal;

/// <summary>
/// The evaluation path: appearance distances (cosine) in, fused distances out — and, with re-ranking, the
/// k-reciprocal re-ranking of the fused query–gallery, query–query and gallery–gallery distances (fusion first,
/// as in ST-ReID). The result is a <see cref="DistanceMatrix"/> that ranking and metrics take as they are.
/// </summary>
public static class SpatialTemporalRanking
{
    /// <summary>Fuses one appearance matrix with the sightings of its rows and columns.</summary>
    public static (DistanceMatrix Distances, FusionReport Report) Fuse(SpatialTemporalModel model, DistanceMatrix appearance,
        IReadOnlyList<CameraTime> rows, IReadOnlyList<CameraTime> columns, string rowName = "queries", string columnName = "gallery images")
    {
        if (appearance.Rows != rows.Count || appearance.Columns != columns.Count)
            throw new ArgumentException($"a {appearance.Rows}x{appearance.Columns} matrix for {rows.Count}x{columns.Count} sightings");
        var similarity = Similarities(appearance);
        var fused = SpatialTemporalFusion.Fuse(model, similarity, rows, columns, rowName, columnName);
        return (new DistanceMatrix(rows.Count, columns.Count, fused.Values, DistanceKind.Derived), fused.Report);
    }

    /// <summary>
    /// Query–gallery distances fused with travel times, optionally re-ranked. <paramref name="queryQuery"/> and
    /// <paramref name="galleryGallery"/> are needed only for re-ranking.
    /// </summary>
    public static (DistanceMatrix Distances, FusionReport Report) Apply(SpatialTemporalModel model,
        DistanceMatrix queryGallery, IReadOnlyList<ImageRecord> query, IReadOnlyList<ImageRecord> gallery,
        DistanceMatrix? queryQuery = null, DistanceMatrix? galleryGallery = null, ReRankingOptions? reRanking = null)
    {
        var q = model.ToCameraTimes(query);
        var g = model.ToCameraTimes(gallery);
        var (qg, report) = Fuse(model, queryGallery, q, g);
        if (reRanking is null) return (qg, report);
        if (queryQuery is null || galleryGallery is null)
            throw new ArgumentException("re-ranking needs the query-query and gallery-gallery distances too");
        var (qq, _) = Fuse(model, queryQuery, q, q);
        var (gg, _) = Fuse(model, galleryGallery, g, g);
        return (ReRanker.Apply(qg, qq, gg, reRanking), report);
    }

    /// <summary>Cosine similarities of an appearance matrix; other kinds are refused (fuse before re-ranking).</summary>
    public static float[] Similarities(DistanceMatrix appearance)
    {
        if (appearance.Kind != DistanceKind.Cosine)
            throw new ReidException($"spatial-temporal fusion needs cosine appearance distances, got {appearance.Kind} (fuse before re-ranking; use the cosine metric)");
        var s = new float[appearance.Values.Length];
        for (var i = 0; i < s.Length; i++) s[i] = appearance.Score(appearance.Values[i]);
        return s;
    }
}
