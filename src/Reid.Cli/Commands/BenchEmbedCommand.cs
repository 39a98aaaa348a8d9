using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Reid.Core;
using Reid.Imaging;
using Reid.Inference;
using Reid.Inference.Profiling;
using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid bench embed`: embedding throughput (decode+preprocess+inference, and inference alone) at each batch
/// size, the model's FLOPs per image, and the fraction of the machine's f32 FMA peak measured in the same run.
/// The two pipelines take turns (A, B, A, B …) and medians are reported, so load from other processes hits both.
/// </summary>
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
            var batches = ParseBatches(parse.GetValue(batch)!);
            var n = parse.GetValue(count);
            var r = parse.GetValue(rounds);
            if (n <= 0 || r <= 0) throw new ReidException("--count and --rounds must be positive");
            var result = Run(parse.GetValue(model) ?? ProjectModels.DefaultReidModel, batches, parse.GetValue(images), n, r, parse.GetValue(threads));
            Print(result);
            if (parse.GetValue(json) is { } path)
                File.WriteAllText(path, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
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

    public sealed record BatchFigures(int Batch, double PipelineImagesPerS, double InferenceImagesPerS,
        double InferenceGflops, double FractionOfPeakOneThread, double FractionOfPeakTwoThreads,
        double[] PipelineRounds, double[] InferenceRounds);

    public sealed record EmbedBenchmark(string Model, string ModelId, string OrtVersion, int Images, int Rounds,
        int IntraOpThreads, int Processors, string InputSize, int Dimension, double GmacsPerImage, double GflopsPerImage,
        string PeakIsa, double PeakGflopsOneThread, double PeakGflopsTwoThreads, string FractionNote,
        double LoadAverageBefore, double LoadAverageAfter, IReadOnlyList<BatchFigures> Results)
    {
        /// <summary>The machine the figures came from (CPU model, oneDNN's ISA, bf16).</summary>
        public Reid.Engine.Tensors.CpuCapabilities Cpu { get; init; } = Reid.Engine.Tensors.CpuCapabilities.Current;
    }

    private static EmbedBenchmark Run(string modelPath, int[] batches, string? imageDir, int count, int rounds, int threads)
    {
        imageDir ??= ProjectPaths.SharedDir is { } shared ? Path.Combine(shared, "data", "market1501", "bounding_box_train")
            : throw new ReidException("no --images folder given and ../shared is absent");
        if (!Directory.Exists(imageDir)) throw new ReidException($"{imageDir}: folder not found");
        var paths = Directory.EnumerateFiles(imageDir).Where(p => p.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).Take(count).ToList();
        if (paths.Count == 0) throw new ReidException($"{imageDir}: no .jpg or .png crops");
        var loadBefore = LoadAverage();

        EmbedBenchmark? result = null;
        AnsiConsole.Status().Start("loading", ctx =>
        {
            ctx.Status("counting the model's multiply-adds");
            using var probe = Embedder.Open(modelPath, new EmbedderOptions(BatchSize: 1, IntraOpThreads: threads));
            var prep = probe.Preprocessing;
            var cost = ModelFlops.Measure(modelPath, prep.Height, prep.Width);

            ctx.Status("measuring the FMA peak (1 and 2 threads)");
            var peak1 = MachinePeak.MeasureGflops(1, TimeSpan.FromSeconds(1));
            var peak2 = MachinePeak.MeasureGflops(2, TimeSpan.FromSeconds(1));

            var decoded = ImageBatch.DecodeAll(paths);
            var tensor = new float[paths.Count * prep.TensorLength];
            ImageBatch.Preprocess(decoded, prep, tensor);
            var figures = new List<BatchFigures>();
            foreach (var b in batches)
            {
                using var embedder = Embedder.Open(modelPath, new EmbedderOptions(BatchSize: b, IntraOpThreads: threads));
                var pipeline = new double[rounds];
                var inference = new double[rounds];
                embedder.EmbedPreprocessed(tensor.AsMemory(0, Math.Min(b, paths.Count) * prep.TensorLength), Math.Min(b, paths.Count));   // warm-up
                for (var i = 0; i < rounds; i++)
                {
                    ctx.Status($"batch {b}: round {i + 1}/{rounds}");
                    pipeline[i] = Time(() =>
                    {
                        foreach (var chunk in paths.Chunk(b)) embedder.Embed(ImageBatch.DecodeAll(chunk));
                    }, paths.Count);
                    inference[i] = Time(() => embedder.EmbedPreprocessed(tensor, paths.Count), paths.Count);
                }
                var inferenceRate = Median(inference);
                var gflops = inferenceRate * cost.Flops / 1e9;
                figures.Add(new BatchFigures(b, Median(pipeline), inferenceRate, gflops, gflops / peak1, gflops / peak2, pipeline, inference));
            }
            result = new EmbedBenchmark(modelPath, probe.ModelId, OnnxRuntime.Instance.Version, paths.Count, rounds, threads,
                Environment.ProcessorCount, $"{prep.Height}x{prep.Width}", probe.Dimension, cost.MultiplyAdds / 1e9, cost.Flops / 1e9,
                MachinePeak.Isa, peak1, peak2,
                "fraction = inference-alone GFLOP/s (2 x Conv/Gemm/MatMul multiply-adds x images/s) / measured FMA peak; " +
                "ORT uses every core by default, so the 2-thread peak is the fair denominator",
                loadBefore, LoadAverage(), figures);
        });
        return result!;
    }

    private static double Time(Action action, int images)
    {
        var sw = Stopwatch.StartNew();
        action();
        return images / sw.Elapsed.TotalSeconds;
    }

    private static double Median(double[] values)
    {
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static double LoadAverage()
    {
        try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return double.NaN; }
    }

    private static void Print(EmbedBenchmark r)
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
