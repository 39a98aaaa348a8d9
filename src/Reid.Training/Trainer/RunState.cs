using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Engine.Checkpoints;

namespace Reid.Training.Trainer;

/// <summary>
/// Where a run stands, saved in the checkpoint's extra values: the position (epoch, next batch), the seed,
/// the running sums of the current epoch (so a resumed epoch logs the same figures), and the wall time and
/// data-wait time summed over every process that worked on the run.
/// </summary>
internal sealed class RunState
{
    public int Seed { get; set; }
    public int Epoch { get; set; }
    public int Batch { get; set; }
    public int Resumes { get; set; }
    public double WallSeconds { get; set; }
    public double EpochSeconds { get; set; }
    public double DataWaitSeconds { get; set; }
    public double TotalDataWaitSeconds { get; set; }
    public long Images { get; set; }
    public long Correct { get; set; }
    public int Batches { get; set; }
    public Dictionary<string, double> PartSums { get; } = new();

    public void Add(IReadOnlyDictionary<string, double> parts, int correct, int images)
    {
        foreach (var (k, v) in parts) PartSums[k] = PartSums.GetValueOrDefault(k) + v;
        Correct += correct;
        Images += images;
        Batches++;
    }

    public double MeanLoss => Batches == 0 ? 0 : PartSums.GetValueOrDefault("total") / Batches;
    public double Accuracy => Images == 0 ? 0 : (double)Correct / Images;

    public IReadOnlyDictionary<string, double> MeanParts() =>
        PartSums.Where(kv => kv.Key != "total").ToDictionary(kv => kv.Key, kv => kv.Value / Math.Max(1, Batches));

    public void NextEpoch()
    {
        Epoch++;
        Batch = 0;
        TotalDataWaitSeconds += DataWaitSeconds;
        DataWaitSeconds = EpochSeconds = 0;
        Images = Correct = 0;
        Batches = 0;
        PartSums.Clear();
    }

    public JsonObject ToJson() => new()
    {
        ["seed"] = Seed, ["next_epoch"] = Epoch, ["next_batch"] = Batch, ["resumes"] = Resumes,
        ["wall_s"] = WallSeconds, ["epoch_s"] = EpochSeconds, ["data_wait_s"] = DataWaitSeconds,
        ["total_data_wait_s"] = TotalDataWaitSeconds, ["images"] = Images, ["correct"] = Correct, ["batches"] = Batches,
        ["part_sums"] = new JsonObject(PartSums.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
    };

    public static RunState From(JsonObject o, string source)
    {
        var where = $"{source}: the checkpoint's training position (written by `reid train`)";
        int Int(string key) => JsonFields.Value<int>(o, key, where);
        double Real(string key) => JsonFields.Value<double>(o, key, where);
        var s = new RunState
        {
            Seed = Int("seed"), Epoch = Int("next_epoch"), Batch = Int("next_batch"), Resumes = Int("resumes") + 1,
            WallSeconds = Real("wall_s"), EpochSeconds = Real("epoch_s"), DataWaitSeconds = Real("data_wait_s"),
            TotalDataWaitSeconds = Real("total_data_wait_s"), Images = JsonFields.Value<long>(o, "images", where),
            Correct = JsonFields.Value<long>(o, "correct", where), Batches = Int("batches"),
        };
        foreach (var (k, v) in JsonFields.Object(o["part_sums"], "'part_sums'", where)) s.PartSums[k] = JsonFields.Value<double>(v, $"part_sums.{k}", where);
        return s;
    }
}
