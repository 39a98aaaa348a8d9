using System.CommandLine;
using Reid.Gallery;
using Reid.Training.Benchmark;
using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>`reid gallery bench-search`: the options and the table of <see cref="SearchBenchmark"/> (exact search vs memory bandwidth).</summary>
internal static class GalleryBenchSearchCommand
{
    public static Command Create()
    {
        var sizes = new Option<int[]>("--sizes") { Description = "Stored embeddings", DefaultValueFactory = _ => [10_000, 100_000, 1_000_000], AllowMultipleArgumentsPerToken = true };
        var dim = new Option<int>("--dim") { Description = "Embedding length", DefaultValueFactory = _ => 512 };
        var queries = new Option<int>("--queries") { Description = "Timed queries per size", DefaultValueFactory = _ => 100 };
        var half = new Option<bool>("--half") { Description = "Also measure fp16 storage" };
        var threads = new Option<int>("--threads") { Description = "Cores one query may use", DefaultValueFactory = _ => 1 };
        var compare = new Option<bool>("--compare") { Description = "Also time the reference scan (one dot per row; fp16 widened into a buffer), alternating query by query with the fused one" };
        var json = new Option<string?>("--json") { Description = "Write the figures as JSON" };
        var c = new Command("bench-search", "Benchmark exact top-50 search on synthetic embeddings: queries/s, p50/p99, fraction of memory bandwidth")
            { sizes, dim, queries, half, threads, compare, json };
        c.SetAction(parse =>
        {
            var results = new List<SearchBenchmarkResult>();
            var table = new Table().AddColumns("stored", "dtype", "kernel", "queries/s", "p50 ms", "p99 ms", "scan GB/s", "memory GB/s", "bound q/s", "of bound", "speed-up");
            foreach (var n in parse.GetValue(sizes)!)
            foreach (var h in parse.GetValue(half) ? new[] { false, true } : [false])
            {
                var pair = SearchBenchmark.Run(n, parse.GetValue(dim), h, parse.GetValue(queries), parallelism: parse.GetValue(threads), compare: parse.GetValue(compare));
                results.AddRange(pair);
                foreach (var r in pair)
                    table.AddRow($"{n:N0}", h ? "fp16" : "fp32", r.Kernel, $"{r.QueriesPerSecond:F1}", $"{r.P50Ms:F2}", $"{r.P99Ms:F2}", $"{r.ScannedGBPerSecond:F1}",
                        $"{r.MemoryReadGBPerSecond:F1}", $"{r.BandwidthBoundQps:F1}", $"{r.FractionOfBandwidth:P0}",
                        pair.Count > 1 ? $"{r.QueriesPerSecond / pair[0].QueriesPerSecond:F2}x" : "");
                GC.Collect();
            }
            AnsiConsole.Write(table);
            GalleryCommand.WriteJson(parse.GetValue(json), new { machine = BenchmarkMachine.Note(), results });
            return CliRunner.Ok;
        });
        return c;
    }
}
