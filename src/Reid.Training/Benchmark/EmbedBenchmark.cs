using System.Diagnostics;
using System.Globalization;
using Reid.Core;
using Reid.Engine.Tensors;
using Reid.Imaging;
using Reid.Inference;
using Reid.Inference.Profiling;

namespace Reid.Training.Benchmark;

public sealed record EmbedBenchmarkOptions
{
    public string Model { get; init; } = "";
    public IReadOnlyList<int> Batches { get; init; } = [1, 32];
    /// <summary>Folder of crops; null: ../shared's Market-1501 bounding_box_train.</summary>
    public string? Images { get; init; }
    /// <summary>Crops per round.</summary>
    public int Count { get; init; } = 256;
    /// <summary>Rounds per pipeline (the median is reported).</summary>
    public int Rounds { get; init; } = 5;
    /// <summary>ORT intra-op threads (0: ORT's default, one per core).</summary>
    public int Threads { get; init; }
}

public sealed record BatchFigures(int Batch, double PipelineImagesPerS, double InferenceImagesPerS,
    double InferenceGflops, double FractionOfPeakOneThread, double FractionOfPeakTwoThreads,
    double[] PipelineRounds, double[] InferenceRounds);

public sealed record EmbedBenchmarkResult(string Model, string ModelId, string OrtVersion, int Images, int Rounds,
    int IntraOpThreads, int Processors, string InputSize, int Dimension, double GmacsPerImage, double GflopsPerImage,
    string PeakIsa, double PeakGflopsOneThread, double PeakGflopsTwoThreads, string FractionNote,
    double LoadAverageBefore, double LoadAverageAfter, IReadOnlyList<BatchFigures> Results)
{
    /// <summary>The machine the figures came from (CPU model, oneDNN's ISA, bf16).</summary>
    public CpuCapabilities Cpu { get; init; } = CpuCapabilities.Current;
}

/// <summary>
/// `reid bench embed`: embedding throughput (decode+preprocess+inference, and inference alone) at each batch
/// size, the model's FLOPs per image, and the fraction of the machine's f32 FMA peak measured in the same run.
/// The two pipelines take turns (A, B, A, B …) and medians are reported, so load from other processes hits both.
/// It lives here rather than in Reid.Inference because the figures name the CPU as oneDNN sees it.
/// </summary>
public static class EmbedBenchmark
{
    /// <summary>Runs the benchmark; <paramref name="status"/> hears what it is doing (it takes minutes).</summary>
    public static EmbedBenchmarkResult Run(EmbedBenchmarkOptions options, Action<string>? status = null)
    {
        if (options.Count <= 0 || options.Rounds <= 0) throw new ReidException("--count and --rounds must be positive");
        var (modelPath, batches, count, rounds, threads) = (options.Model, options.Batches, options.Count, options.Rounds, options.Threads);
        var imageDir = options.Images ?? (ProjectPaths.SharedDir is { } shared ? Path.Combine(shared, "data", "market1501", "bounding_box_train")
            : throw new ReidException("no --images folder given and ../shared is absent"));
        if (!Directory.Exists(imageDir)) throw new ReidException($"{imageDir}: folder not found");
        var paths = Directory.EnumerateFiles(imageDir).Where(p => p.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).Take(count).ToList();
        if (paths.Count == 0) throw new ReidException($"{imageDir}: no .jpg or .png crops");
        var loadBefore = LoadAverage();

        status?.Invoke("counting the model's multiply-adds");
        using var probe = Embedder.Open(modelPath, new EmbedderOptions(BatchSize: 1, IntraOpThreads: threads));
        var prep = probe.Preprocessing;
        var cost = ModelFlops.Measure(modelPath, prep.Height, prep.Width);

        status?.Invoke("measuring the FMA peak (1 and 2 threads)");
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
                status?.Invoke($"batch {b}: round {i + 1}/{rounds}");
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
        return new EmbedBenchmarkResult(modelPath, probe.ModelId, OnnxRuntime.Instance.Version, paths.Count, rounds, threads,
            Environment.ProcessorCount, $"{prep.Height}x{prep.Width}", probe.Dimension, cost.MultiplyAdds / 1e9, cost.Flops / 1e9,
            MachinePeak.Isa, peak1, peak2,
            "fraction = inference-alone GFLOP/s (2 x Conv/Gemm/MatMul multiply-adds x images/s) / measured FMA peak; " +
            "ORT uses every core by default, so the 2-thread peak is the fair denominator",
            loadBefore, LoadAverage(), figures);
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
}
