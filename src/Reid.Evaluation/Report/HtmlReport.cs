using System.Globalization;
using System.Net;
using System.Text;
using Reid.Data;

namespace Reid.Evaluation.Report;

/// <summary>What the report shows besides the result: a title, settings (model, data, command) and grid sizes.</summary>
public sealed record ReportOptions(string Title, IReadOnlyList<KeyValuePair<string, string>> Settings,
                                   int SampleQueries = 12, int WorstQueries = 12, int GridWidth = 10, int Seed = 0);

/// <summary>
/// A self-contained HTML report of an evaluation: metrics table, CMC and ROC (logarithmic FAR) curves and the
/// genuine/impostor score histograms with the TAR@FAR thresholds as inline SVG, and ranked-list grids (query +
/// top 10, correct matches framed green) for sample queries and for the worst failures. The images shown are
/// copied into <c>DIR/images/</c>, so the folder works offline and can be moved as a whole.
/// </summary>
public static class HtmlReport
{
    private const string Green = "#1a9641", Red = "#d7191c", Blue = "#2b83ba", Orange = "#fdae61";

    public static string Write(string dir, EvaluationResult result, IReadOnlyList<ImageRecord> query,
                               IReadOnlyList<ImageRecord> gallery, ReportOptions options)
    {
        Directory.CreateDirectory(dir);
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        var html = new StringBuilder();
        html.Append($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{{E(options.Title)}}</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1300px; }
            table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
            td, th { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
            th { background: #f3f3f3; }
            .charts { display: flex; flex-wrap: wrap; gap: 1em; }
            .row { display: flex; align-items: flex-start; gap: 4px; margin: 6px 0; }
            .cell { text-align: center; font-size: 10px; width: 70px; overflow-wrap: anywhere; }
            .cell img { width: 64px; height: 128px; object-fit: contain; border: 3px solid #999; background: #eee; }
            .q img { border-color: {{Blue}}; } .hit img { border-color: {{Green}}; } .miss img { border-color: {{Red}}; }
            .gap { width: 14px; }
            .missing { width: 64px; height: 128px; border: 3px dashed #999; display: inline-block; }
            </style></head><body>
            <h1>{{E(options.Title)}}</h1>

            """);

        html.Append("<h2>Settings</h2><table>");
        foreach (var (key, value) in options.Settings) html.Append($"<tr><th>{E(key)}</th><td>{E(value)}</td></tr>");
        html.Append("</table>\n");

        AppendMetrics(html, result);

        html.Append("<div class=\"charts\">");
        html.Append(CmcChart(result));
        if (result.Verification is { Genuine.Length: > 0, Impostor.Length: > 0 } v)
        {
            html.Append(RocChart(v));
            html.Append(HistogramChart(v));
        }
        html.Append("</div>\n");

        var valid = result.Queries.Where(q => q.Valid).ToList();
        var rng = new Random(options.Seed);
        var samples = valid.OrderBy(_ => rng.Next()).Take(options.SampleQueries).OrderBy(q => q.QueryIndex).ToList();
        var worst = valid.Where(q => q.FirstMatchRank > 1).OrderBy(q => q.AveragePrecision).ThenBy(q => q.QueryIndex)
                         .Take(options.WorstQueries).ToList();
        var copier = new ImageCopier(images);
        html.Append($"<h2>Sample queries</h2><p>{samples.Count} queries drawn at random (seed {options.Seed}): the query (blue), then its top {options.GridWidth} gallery images; green is the same person, red another. Images the protocol ignores (same person, same camera; junk) are left out.</p>\n");
        foreach (var q in samples) AppendRow(html, q, query, gallery, options.GridWidth, copier);
        html.Append($"<h2>Worst failures</h2><p>The {worst.Count} queries with the lowest average precision whose first answer is wrong.</p>\n");
        foreach (var q in worst) AppendRow(html, q, query, gallery, options.GridWidth, copier);
        html.Append("</body></html>\n");

        var path = Path.Combine(dir, "index.html");
        File.WriteAllText(path, html.ToString());
        return path;
    }

    private static void AppendMetrics(StringBuilder html, EvaluationResult r)
    {
        html.Append("<h2>Metrics</h2><table>");
        void Row(string k, string v) => html.Append($"<tr><th>{E(k)}</th><td>{E(v)}</td></tr>");
        Row("Rank-1", P(r.Rank1)); Row("Rank-5", P(r.Rank5)); Row("Rank-10", P(r.Rank10));
        Row("mAP", P(r.MeanAP)); Row("mINP", P(r.MeanInp));
        Row("valid queries", r.ValidQueries.ToString(CultureInfo.InvariantCulture));
        Row("skipped queries (no valid match)", r.SkippedQueries.ToString(CultureInfo.InvariantCulture));
        html.Append("</table>\n");
        if (r.Verification is not { } v) return;
        html.Append($"<h3>Verification</h3><p>{v.Genuine.Length:N0} genuine and {v.Impostor.Length:N0} impostor query–gallery pairs; score = {(v.Kind == DistanceKind.Cosine ? "cosine similarity" : "negative distance")}; accept when score &gt; threshold. AUC {v.Auc:0.0000}.</p>");
        html.Append("<table><tr><th>FAR target</th><th>FAR</th><th>TAR</th><th>threshold</th></tr>");
        foreach (var p in v.OperatingPoints)
            html.Append($"<tr><td>{p.TargetFar:0e0}</td><td>{p.Far:0.00000}</td><td>{P(p.Tar)}</td><td>{p.Threshold:0.0000}</td></tr>");
        html.Append("</table>\n");
    }

    private static string CmcChart(EvaluationResult r)
    {
        var x = Enumerable.Range(1, r.Cmc.MaxRank).Select(i => (double)i).ToArray();
        var lo = Math.Floor(Math.Min(r.Cmc.At(1), 1) * 10) / 10;
        return new SvgChart { Title = "CMC", XLabel = "rank", YLabel = "matching rate", XMin = 1, XMax = Math.Max(2, r.Cmc.MaxRank), YMin = Math.Min(lo, 0.9) }
            .Line(new Series($"Rank-1 {P(r.Rank1)}", x, r.Cmc.Values, Blue)).Render();
    }

    private static string RocChart(VerificationResult v)
    {
        var roc = v.Roc();
        var minFar = Math.Pow(10, Math.Floor(Math.Log10(1.0 / v.Impostor.Length)));
        var chart = new SvgChart { Title = "ROC (verification)", XLabel = "false accept rate (log)", YLabel = "true accept rate", XMin = minFar, XMax = 1, LogX = true }
            .Line(new Series($"AUC {v.Auc:0.0000}", roc.Far, roc.Tar, Blue));
        foreach (var p in v.OperatingPoints) chart.Mark(new Marker(p.TargetFar, $"TAR {P(p.Tar)} @ {p.TargetFar:0e0}", Orange));
        return chart.Render();
    }

    private static string HistogramChart(VerificationResult v)
    {
        const int bins = 60;
        double lo = Math.Min(v.Genuine[^1], v.Impostor[^1]), hi = Math.Max(v.Genuine[0], v.Impostor[0]);
        if (hi <= lo) hi = lo + 1;
        var width = (hi - lo) / bins;
        var edges = Enumerable.Range(0, bins + 1).Select(i => lo + i * width).ToArray();
        double[] Density(float[] s)
        {
            var d = new double[bins];
            foreach (var x in s) d[Math.Min((int)((x - lo) / width), bins - 1)]++;
            for (var i = 0; i < bins; i++) d[i] /= s.Length * width;
            return d;
        }
        var gen = Density(v.Genuine);
        var imp = Density(v.Impostor);
        var chart = new SvgChart { Title = "Scores: same person vs different people", XLabel = v.Kind == DistanceKind.Cosine ? "cosine similarity" : "−distance",
                                   YLabel = "density", XMin = lo, XMax = hi, YMax = Math.Max(gen.Max(), imp.Max()) * 1.1 }
            .Histogram(edges, new Bars("same id", gen, Green), new Bars("different id", imp, Red));
        foreach (var p in v.OperatingPoints.Where(p => float.IsFinite(p.Threshold)))
            chart.Mark(new Marker(p.Threshold, $"FAR {p.TargetFar:0e0}: {p.Threshold:0.000}", "#555"));
        return chart.Render();
    }

    private static void AppendRow(StringBuilder html, QueryResult q, IReadOnlyList<ImageRecord> query, IReadOnlyList<ImageRecord> gallery,
                                  int width, ImageCopier copier)
    {
        var qr = query[q.QueryIndex];
        html.Append("<div class=\"row\">");
        html.Append(Cell("q", copier.Copy(qr, $"q{q.QueryIndex}"), $"{qr.Name}<br>id {qr.PersonId} cam {qr.Camera ?? "?"}<br>AP {q.AveragePrecision:0.00}, first hit #{q.FirstMatchRank}"));
        html.Append("<div class=\"gap\"></div>");
        var rank = 0;
        foreach (var m in q.Ranking.Matches.Take(width))
        {
            var g = gallery[m.GalleryIndex];
            html.Append(Cell(m.Relation == PairRelation.Positive ? "hit" : "miss", copier.Copy(g, $"g{m.GalleryIndex}"),
                             $"#{++rank} {m.Distance:0.000}<br>id {g.PersonId} cam {g.Camera ?? "?"}"));
        }
        html.Append("</div>\n");
    }

    private static string Cell(string cls, string? src, string caption) =>
        $"<div class=\"cell {cls}\">{(src is null ? "<span class=\"missing\"></span>" : $"<img src=\"{E(src)}\" loading=\"lazy\" alt=\"\">")}<br>{caption}</div>";

    private static string P(double f) => f.ToString("0.000", CultureInfo.InvariantCulture);
    private static string E(string s) => WebUtility.HtmlEncode(s);

    /// <summary>Copies each shown image once into the report's folder under a collision-free name.</summary>
    private sealed class ImageCopier(string dir)
    {
        private readonly Dictionary<string, string?> _done = [];

        public string? Copy(ImageRecord r, string key)
        {
            if (_done.TryGetValue(key, out var known)) return known;
            string? rel = null;
            try
            {
                var name = key + Path.GetExtension(r.Path).ToLowerInvariant();
                File.Copy(r.Path, Path.Combine(dir, name), overwrite: true);
                rel = "images/" + name;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return _done[key] = rel;
        }
    }
}
