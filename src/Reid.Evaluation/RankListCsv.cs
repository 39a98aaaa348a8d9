using System.Globalization;
using Reid.Data;

namespace Reid.Evaluation;

/// <summary>
/// Writes each query's top-k ranked gallery as CSV: <c>query,query_id,query_camera,rank,gallery,gallery_id,gallery_camera,distance,match</c>
/// (match is 1 for a correct match, 0 otherwise; ignored gallery images are not listed).
/// </summary>
public static class RankListCsv
{
    public static void Write(string path, EvaluationResult result, IReadOnlyList<ImageRecord> query, IReadOnlyList<ImageRecord> gallery, int topK)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        using var w = new StreamWriter(path);
        w.WriteLine("query,query_id,query_camera,rank,gallery,gallery_id,gallery_camera,distance,match");
        foreach (var q in result.Queries)
        {
            var qr = query[q.QueryIndex];
            var rank = 0;
            foreach (var m in q.Ranking.Matches.Take(topK))
            {
                var g = gallery[m.GalleryIndex];
                w.WriteLine(string.Join(',', Csv(qr.Name), qr.PersonId.ToString(CultureInfo.InvariantCulture), Csv(qr.Camera ?? ""),
                    (++rank).ToString(CultureInfo.InvariantCulture), Csv(g.Name), g.PersonId.ToString(CultureInfo.InvariantCulture),
                    Csv(g.Camera ?? ""), m.Distance.ToString("G6", CultureInfo.InvariantCulture), m.Relation == PairRelation.Positive ? "1" : "0"));
            }
        }
    }

    private static string Csv(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
