using System.Globalization;
using System.Net;
using System.Text;
using Reid.Evaluation.Report;

namespace Reid.Training.Reports;

/// <summary>The training curves as one self-contained HTML page of SVG charts (eval's <see cref="SvgChart"/>).</summary>
public static class CurvesPage
{
    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

    public static string Write(string path, string title, IReadOnlyList<EpochMetrics> rows, string evaluationName = "validation")
    {
        var sb = new StringBuilder();
        sb.Append($"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(title)} — training curves</title>")
          .Append("<style>body{font-family:sans-serif;margin:2em}svg{margin:0 1em 1em 0}</style></head><body>")
          .Append($"<h1>{WebUtility.HtmlEncode(title)}</h1>");
        if (rows.Count == 0) sb.Append("<p>No finished epoch yet.</p>");
        else
        {
            double maxEpoch = Math.Max(rows.Max(r => r.Epoch), 2);
            var epochs = rows.Select(r => (double)r.Epoch).ToList();
            var lossKeys = rows.SelectMany(r => r.Parts.Keys).Distinct().ToList();
            var maxLoss = Math.Max(rows.Max(r => Math.Max(r.Loss, r.Parts.Values.DefaultIfEmpty(0).Max())), 1e-6) * 1.05;
            var losses = new SvgChart { Title = "Losses (mean per batch)", XLabel = "epoch", YLabel = "loss", XMin = 1, XMax = maxEpoch, YMin = 0, YMax = maxLoss };
            losses.Line(new Series("total (weighted)", epochs, rows.Select(r => r.Loss).ToList(), Colours[0]));
            for (var i = 0; i < lossKeys.Count; i++)
            {
                var k = lossKeys[i];
                var pts = rows.Where(r => r.Parts.ContainsKey(k)).ToList();
                losses.Line(new Series(k, pts.Select(r => (double)r.Epoch).ToList(), pts.Select(r => r.Parts[k]).ToList(), Colours[(i + 1) % Colours.Length]));
            }
            sb.Append(losses.Render());

            var acc = new SvgChart { Title = $"Training accuracy and {evaluationName} figures", XLabel = "epoch", YLabel = "fraction", XMin = 1, XMax = maxEpoch };
            acc.Line(new Series("training accuracy", epochs, rows.Select(r => r.Accuracy).ToList(), Colours[0]));
            var evals = rows.Where(r => r.Rank1 is not null).ToList();
            if (evals.Count > 0)
            {
                acc.Line(new Series($"{evaluationName} Rank-1", evals.Select(r => (double)r.Epoch).ToList(), evals.Select(r => r.Rank1!.Value).ToList(), Colours[1]));
                acc.Line(new Series($"{evaluationName} mAP", evals.Select(r => (double)r.Epoch).ToList(), evals.Select(r => r.MeanAP!.Value).ToList(), Colours[2]));
            }
            sb.Append(acc.Render());

            var lr = new SvgChart { Title = "Learning rate (head) at epoch end", XLabel = "epoch", YLabel = "lr", XMin = 1, XMax = maxEpoch, YMax = Math.Max(rows.Max(r => r.LearningRate), 1e-12) * 1.05 };
            lr.Line(new Series("learning rate", epochs, rows.Select(r => r.LearningRate).ToList(), Colours[3]));
            sb.Append(lr.Render());

            sb.Append("<table border=\"1\" cellpadding=\"4\" style=\"border-collapse:collapse\"><tr><th>epoch</th><th>loss</th><th>accuracy</th><th>Rank-1</th><th>mAP</th><th>images/s</th><th>data wait (s)</th></tr>");
            static string F(double? v, string f = "0.000") => v is { } x ? x.ToString(f, CultureInfo.InvariantCulture) : "";
            foreach (var r in rows)
                sb.Append($"<tr><td>{r.Epoch}</td><td>{F(r.Loss, "0.0000")}</td><td>{F(r.Accuracy)}</td><td>{F(r.Rank1)}</td><td>{F(r.MeanAP)}</td><td>{F(r.ImagesPerSecond, "0.0")}</td><td>{F(r.DataWaitSeconds, "0.0")}</td></tr>");
            sb.Append("</table>");
        }
        sb.Append("</body></html>");
        AtomicFile.WriteAllText(path, sb.ToString());
        return path;
    }
}
