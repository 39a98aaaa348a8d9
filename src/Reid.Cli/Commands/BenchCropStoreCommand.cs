using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Reid.Core;
using Reid.Data;
using Reid.Engine.Tensors;
using Reid.Training.Benchmark;
using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid bench crop-store`: the packed <see cref="CropStore"/> at scale (default a million crops) against loose files
/// (issue #19): insert rate, size on disk, reopen + Ids(), random reads on 1 and 2 threads, peak memory.
/// The measuring is <see cref="CropStoreBenchmark"/>; this reads the payload, prints and writes the JSON.
/// </summary>
internal static class BenchCropStoreCommand
{
    /// <summary>Real person crops cycled as payload: the first this-many Market-1501 training JPEGs.</summary>
    private const int PayloadFiles = 500;

    public static Command Create()
    {
        var crops = new Option<int>("--crops") { Description = "Crops packed into the store", DefaultValueFactory = _ => 1_000_000 };
        var dir = new Option<string>("--dir") { Description = "Where the store and the loose files are written (deleted afterwards unless --keep)", Required = true };
        var loose = new Option<int>("--loose") { Description = "Crops written as loose files for comparison (0 skips)", DefaultValueFactory = _ => 100_000 };
        var keep = new Option<bool>("--keep") { Description = "Keep the store and loose files in --dir" };
        var json = new Option<string?>("--json") { Description = "Also write the figures to this JSON file" };
        var command = new Command("crop-store", "Packed crop store at a million crops vs loose files: insert rate, size, Ids(), random reads")
        {
            crops, dir, loose, keep, json,
        };
        command.SetAction(parse =>
        {
            var target = Path.GetFullPath(parse.GetValue(dir)!);
            var options = new CropStoreBenchmarkOptions
            {
                Crops = parse.GetValue(crops), Loose = parse.GetValue(loose), Dir = target, Payload = ReadPayload(), Keep = parse.GetValue(keep),
            };
            var load = BenchmarkMachine.LoadAverage();
            var started = DateTimeOffset.UtcNow;
            var result = CropStoreBenchmark.Run(options, line => Console.Error.WriteLine(line));
            Print(result);
            if (parse.GetValue(json) is { } path)
            {
                var caps = TryCpuCapabilities();
                var report = new
                {
                    Machine = new
                    {
                        CpuModel = MachineInfo.CpuModel, Nproc = Environment.ProcessorCount, Isa = caps?.Isa, Avx512Bf16 = caps?.Bf16,
                        LoadAverageAtStart = load, Os = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                    },
                    Date = started.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                    Dir = target,
                    PayloadFiles = options.Payload.Count,
                    result.PayloadMeanBytes,
                    PageCache = "warm (reads follow the writes; no cache drop)",
                    result.Store,
                    result.Loose,
                };
                File.WriteAllText(path, JsonSerializer.Serialize(report, ReidJson.Options) + "\n");
            }
            return CliRunner.Ok;
        });
        return command;
    }

    private static CpuCapabilities? TryCpuCapabilities()
    {
        try { return CpuCapabilities.Current; }
        catch (ReidException) { return null; }
        catch (DllNotFoundException) { return null; }
    }

    private static List<byte[]> ReadPayload()
    {
        var folder = ProjectPaths.SharedDir is { } shared ? Path.Combine(shared, "data", "market1501", "bounding_box_train") : null;
        if (folder is null || !Directory.Exists(folder))
            throw new ReidException("reid bench crop-store needs real person crops as payload: ../shared/data/market1501/bounding_box_train " +
                "beside the repository (or REID_SHARED) is absent");
        var files = Directory.EnumerateFiles(folder, "*.jpg").Order(StringComparer.Ordinal).Take(PayloadFiles).ToList();
        if (files.Count == 0) throw new ReidException($"no .jpg in {folder}");
        return files.Select(File.ReadAllBytes).ToList();
    }

    private static void Print(CropStoreBenchmarkResult r)
    {
        static string N(double v, string format = "N0") => v.ToString(format, CultureInfo.InvariantCulture);
        var s = r.Store;
        var l = r.Loose;
        var table = new Table().AddColumns("figure", $"store ({N(s.Crops)} crops)", l is null ? "loose (skipped)" : $"loose files ({N(l.Crops)})");
        table.AddRow("payload mean bytes", N(r.PayloadMeanBytes), "");
        table.AddRow("write rate (crops/s)", N(s.InsertCropsPerS), l is null ? "" : N(l.WriteFilesPerS));
        table.AddRow("bytes on disk", N(s.FileBytes), l is null ? "" : $"{N(l.DuBytes)} (4 KiB blocks)");
        table.AddRow("bytes per crop", N(s.BytesPerCrop), l is null ? "" : N(l.BytesOnDiskPerCrop));
        table.AddRow("open (ms)", N(s.OpenMs, "N1"), "");
        table.AddRow("list all (ms)", $"{N(s.IdsMs, "N1")} (Ids(): {N(s.IdsCount)})", l is null ? "" : $"{N(l.EnumerateMs, "N1")} (enumerate: {N(l.EnumeratedCount)})");
        table.AddRow("Count (ms)", $"{N(s.CountMs, "N1")} ({N(s.Count)})", "");
        table.AddRow("peak working set after Ids() (MB)", N(s.PeakWorkingSetBytesAfterIds / 1048576.0), "");
        for (int i = 0; i < s.RandomReads.Count; i++)
        {
            var a = s.RandomReads[i];
            var b = l?.RandomReads[i];
            table.AddRow($"random read, {a.Threads} thread(s): p50/p95/p99 µs", $"{N(a.P50Us, "N1")} / {N(a.P95Us, "N1")} / {N(a.P99Us, "N1")}",
                b is null ? "" : $"{N(b.P50Us, "N1")} / {N(b.P95Us, "N1")} / {N(b.P99Us, "N1")}");
            table.AddRow($"random reads/s, {a.Threads} thread(s)", N(a.ReadsPerS), b is null ? "" : N(b.ReadsPerS));
        }
        AnsiConsole.Write(table);
        Console.WriteLine($"machine: {MachineInfo.CpuModel}, {Environment.ProcessorCount} CPUs; reads are page-cache warm (files just written)");
    }
}
