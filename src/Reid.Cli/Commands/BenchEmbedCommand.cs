using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Reid.Core;
using Reid.Inference;
using Reid.Training.Benchmark;
using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>`reid bench embed`: the options and the printout of <see cref="EmbedBenchmark"/>.</summary>
internal static class BenchEmbedCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "ONNX ReID model (default: the project's default model)" };
        var batch = new Option<string>("--batch") { Description = "Comma-separated batch sizes", DefaultValueFactory = _ => "1,32" };
        var images = new Option<string?>("--images") { Description = "Folder of crops (default: ../shared Market-1501 bounding_box_train)" };
        var count = new Option<int>("--count") { Description = "Crops per round", DefaultValueFactory = _ => 256 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds per pipeline (median reported)", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "ORT intra-op threads (0: ORT's default, one per core)", DefaultValueFactory = _ => 0 };
        var json = new Option<string?>("--json") { Description = "Write the figures to this JSON file" };
        var command = new Command("embed", "Embedding throughput (images/s), model FLOPs and fraction of the measured FMA peak")
        {
            model, batch, images, count, rounds, threads, json,
        };
        command.SetAction(parse =>
        {
            var options = new EmbedBenchmarkOptions
            {
                Model = parse.GetValue(model) ?? ProjectModels.DefaultReidModel, Batches = ParseBatches(parse.GetValue(batch)!),
                Images = parse.GetValue(images), Count = parse.GetValue(count), Rounds = parse.GetValue(rounds), Threads = parse.GetValue(threads),
            };
            EmbedBenchmarkResult result = null!;
            AnsiConsole.Status().Start("loading", ctx => result = EmbedBenchmark.Run(options, s => ctx.Status(s)));
            Print(result);
            if (parse.GetValue(json) is { } path)
                File.WriteAllText(path, JsonSerializer.Serialize(result, ReidJson.Options));
            return CliRunner.Ok;
        });
        return command;
    }

    private static int[] ParseBatches(string s)
    {
        var parts = s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v
            : throw new ReidException($"--batch: '{p}' is not a positive integer")).ToArray();
        return values.Length > 0 ? values : throw new ReidException("--batch: give at least one batch size");
    }

    private static void Print(EmbedBenchmarkResult r)
    {
        AnsiConsole.MarkupLineInterpolated($"model [bold]{r.Model}[/] ({r.ModelId}), input {r.InputSize}, {r.Dimension}-d, ORT {r.OrtVersion}");
        AnsiConsole.MarkupLineInterpolated($"CPU: {r.Cpu.Summary}");
        AnsiConsole.MarkupLineInterpolated($"{r.GmacsPerImage:F3} GMAC = {r.GflopsPerImage:F3} GFLOP per image (Conv/Gemm/MatMul)");
        AnsiConsole.MarkupLineInterpolated($"FMA peak ({r.PeakIsa}): {r.PeakGflopsOneThread:F1} GFLOP/s on 1 thread, {r.PeakGflopsTwoThreads:F1} on 2");
        var table = new Table().AddColumns("batch", "decode+preprocess+infer img/s", "infer img/s", "GFLOP/s", "of 1-thread peak", "of 2-thread peak");
        foreach (var f in r.Results)
            table.AddRow(f.Batch.ToString(), f.PipelineImagesPerS.ToString("F1"), f.InferenceImagesPerS.ToString("F1"),
                f.InferenceGflops.ToString("F1"), f.FractionOfPeakOneThread.ToString("P1"), f.FractionOfPeakTwoThreads.ToString("P1"));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"{r.Images} crops x {r.Rounds} rounds, medians; load average {r.LoadAverageBefore:F2} before, {r.LoadAverageAfter:F2} after");
    }
}
