using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Reid.Training.Reports;

/// <summary>One epoch's figures; evaluation figures are null for epochs without an evaluation.</summary>
public sealed record EpochMetrics(
    int Epoch, double LearningRate, double Loss, IReadOnlyDictionary<string, double> Parts, double Accuracy,
    double ImagesPerSecond, double EpochSeconds, double DataWaitSeconds, double? Rank1 = null, double? MeanAP = null, double? MeanInp = null);

/// <summary>
/// The run's metrics log: metrics.csv (a spreadsheet's view) and metrics.jsonl (one JSON object per epoch,
/// for scripts and the curves page). A resumed run appends; rows of epochs it redoes are replaced.
/// </summary>
public sealed class MetricsLog(string dir)
{
    public string JsonPath { get; } = Path.Combine(dir, "metrics.jsonl");
    public string CsvPath { get; } = Path.Combine(dir, "metrics.csv");

    public IReadOnlyList<EpochMetrics> Read()
    {
        if (!File.Exists(JsonPath)) return [];
        var list = new List<EpochMetrics>();
        foreach (var line in File.ReadLines(JsonPath))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var o = JsonNode.Parse(line)!.AsObject();
            var parts = o["parts"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>());
            list.Add(new EpochMetrics(o["epoch"]!.GetValue<int>(), o["lr"]!.GetValue<double>(), o["loss"]!.GetValue<double>(), parts,
                o["accuracy"]!.GetValue<double>(), o["images_per_s"]!.GetValue<double>(), o["epoch_s"]!.GetValue<double>(),
                o["data_wait_s"]!.GetValue<double>(), o["rank1"]?.GetValue<double>(), o["map"]?.GetValue<double>(), o["minp"]?.GetValue<double>()));
        }
        return list;
    }

    public void Append(EpochMetrics m)
    {
        var rows = Read().Where(r => r.Epoch < m.Epoch).Append(m).ToList();
        Write(rows);
    }

    private void Write(IReadOnlyList<EpochMetrics> rows)
    {
        var json = new StringBuilder();
        foreach (var m in rows)
        {
            var o = new JsonObject
            {
                ["epoch"] = m.Epoch, ["lr"] = m.LearningRate, ["loss"] = m.Loss,
                ["parts"] = new JsonObject(m.Parts.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                ["accuracy"] = m.Accuracy, ["images_per_s"] = m.ImagesPerSecond, ["epoch_s"] = m.EpochSeconds,
                ["data_wait_s"] = m.DataWaitSeconds,
            };
            if (m.Rank1 is { } r1) o["rank1"] = r1;
            if (m.MeanAP is { } ap) o["map"] = ap;
            if (m.MeanInp is { } inp) o["minp"] = inp;
            json.AppendLine(o.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        }
        var parts = rows.SelectMany(r => r.Parts.Keys).Distinct().ToList();
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(",", new[] { "epoch", "lr", "loss" }.Concat(parts.Select(p => $"loss_{p}"))
            .Concat(["accuracy", "images_per_s", "epoch_s", "data_wait_s", "rank1", "map", "minp"])));
        static string F(double? v) => v is { } x ? x.ToString("G6", CultureInfo.InvariantCulture) : "";
        foreach (var m in rows)
            csv.AppendLine(string.Join(",", new[] { m.Epoch.ToString(CultureInfo.InvariantCulture), F(m.LearningRate), F(m.Loss) }
                .Concat(parts.Select(p => F(m.Parts.TryGetValue(p, out var v) ? v : null)))
                .Concat([F(m.Accuracy), F(m.ImagesPerSecond), F(m.EpochSeconds), F(m.DataWaitSeconds), F(m.Rank1), F(m.MeanAP), F(m.MeanInp)])));
        AtomicFile.WriteAllText(JsonPath, json.ToString());
        AtomicFile.WriteAllText(CsvPath, csv.ToString());
    }
}

/// <summary>Write to a temporary file then rename, so an interruption never leaves half a file.</summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
