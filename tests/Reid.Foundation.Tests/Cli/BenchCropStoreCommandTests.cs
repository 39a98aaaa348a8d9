using System.Text.Json.Nodes;
using Reid.TestSupport;

namespace Reid.Foundation.Tests.Cli;

/// <summary>`reid bench crop-store` at a tiny scale: every figure lands in the JSON and the work folder is removed.</summary>
public sealed class BenchCropStoreCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [SharedFact]
    public void WritesTheFiguresAndCleansUp()
    {
        var work = _dir.File("work");
        var json = _dir.File("bench.json");
        var r = ReidCli.InProcess((stdout, stderr) => Reid.Cli.CliRunner.Run(
            ["bench", "crop-store", "--crops", "300", "--loose", "100", "--dir", work, "--json", json], stdout, stderr));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.False(Directory.Exists(work), "the work folder is deleted without --keep");
        Assert.Contains("random read", r.Stdout);

        var o = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        Assert.False(string.IsNullOrWhiteSpace(o["machine"]!["cpu_model"]!.GetValue<string>()));
        Assert.True(o["machine"]!["nproc"]!.GetValue<int>() >= 1);
        Assert.NotNull(o["date"]);
        var store = o["store"]!;
        Assert.Equal(300, store["ids_count"]!.GetValue<int>());
        Assert.Equal(300, store["count"]!.GetValue<int>());
        foreach (var key in new[] { "insert_crops_per_s", "file_bytes", "bytes_per_crop", "peak_working_set_bytes_after_ids" })
            Assert.True(store[key]!.GetValue<double>() > 0, key);
        var loose = o["loose"]!;
        Assert.Equal(100, loose["enumerated_count"]!.GetValue<int>());
        Assert.True(loose["du_bytes"]!.GetValue<long>() >= 100 * 4096);
        foreach (var reads in new[] { store["random_reads"]!.AsArray(), loose["random_reads"]!.AsArray() })
        {
            Assert.Equal([1, 2], reads.Select(x => x!["threads"]!.GetValue<int>()));
            foreach (var x in reads)
            {
                Assert.Equal(20000, x!["reads"]!.GetValue<int>());
                Assert.True(x["p50_us"]!.GetValue<double>() > 0 && x["p50_us"]!.GetValue<double>() <= x["p99_us"]!.GetValue<double>());
                Assert.True(x["reads_per_s"]!.GetValue<double>() > 0);
            }
        }
    }

    [SharedFact]
    public void RefusesAFolderHoldingAnEarlierRun()
    {
        var work = Directory.CreateDirectory(_dir.File("busy")).FullName;
        File.WriteAllText(Path.Combine(work, "crops.db"), "earlier");
        var r = ReidCli.InProcess((stdout, stderr) => Reid.Cli.CliRunner.Run(
            ["bench", "crop-store", "--crops", "10", "--loose", "0", "--dir", work], stdout, stderr));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("crops.db", r.Stderr);
        Assert.Equal("earlier", File.ReadAllText(Path.Combine(work, "crops.db")));
    }
}
