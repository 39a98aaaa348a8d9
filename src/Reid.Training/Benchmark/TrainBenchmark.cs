using System.Diagnostics;
using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Optim;
using Reid.Engine.Tensors;
using Reid.Training.Backbones;

namespace Reid.Training.Benchmark;

public sealed record TrainBenchmarkOptions
{
    public string Backbone { get; init; } = "resnet50";
    public int Batch { get; init; } = 64;
    public ComputePrecision Precision { get; init; } = ComputePrecision.F32;
    public int Steps { get; init; } = 5;
    /// <summary>Untimed steps first: primitive creation, pool growth, JIT.</summary>
    public int WarmupSteps { get; init; } = 1;
    public int Height { get; init; } = 256;
    public int Width { get; init; } = 128;
    /// <summary>Market-1501's training identities.</summary>
    public int Classes { get; init; } = 751;
}

public sealed record TrainBenchmarkResult(
    string Backbone, int Batch, string Precision, int Steps,
    double ImagesPerSecond, double StepSecondsMedian, double OneDnnFraction, double PeakRssMb, double PeakTensorMb,
    long Parameters, IReadOnlyList<double> StepSeconds)
{
    /// <summary>
    /// Median process CPU time (all threads) per timed step. On a shared machine wall time swings with other
    /// load; CPU time measures the work done (inflated only by OpenMP spin-waiting).
    /// </summary>
    public double CpuSecondsMedian { get; init; } = double.NaN;

    /// <summary>
    /// Largest <see cref="TensorPool.BytesInUse"/> at the end of a timed step's forward (loss computed, before
    /// Backward), in MB: what the graph keeps for backward. PeakTensorMb minus this is what backward adds.
    /// </summary>
    public double ForwardTensorMb { get; init; } = double.NaN;

    /// <summary>
    /// Arithmetic of one image's training step, in GFLOP (a multiply-add counted as two): the exported model's
    /// Conv/Gemm multiply-adds (<see cref="Reid.Inference.Profiling.ModelFlops"/>) times three, for the forward,
    /// backward-data and backward-weights passes (the first convolution's backward-data is not run, so this is
    /// a slight overcount). Normalisation, activations and pooling are not counted.
    /// </summary>
    public double TrainGflopsPerImage { get; init; } = double.NaN;

    /// <summary>The machine's f32 FMA peak measured right after the timed steps, with as many threads as oneDNN uses.</summary>
    public double PeakGflops { get; init; } = double.NaN;

    public int PeakThreads { get; init; }

    public double AchievedGflops => ImagesPerSecond * TrainGflopsPerImage;

    public double FractionOfPeak => AchievedGflops / PeakGflops;

    /// <summary>
    /// The figures `reid bench train` prints and writes as JSON, in that order: what bench/train_side_by_side.sh and
    /// docs/BENCHMARKS.md read, with the machine facts a shared, noisy machine's figure needs beside it.
    /// </summary>
    public IReadOnlyDictionary<string, object> Figures(TrainBenchmarkOptions options, string loadAverageAtStart) => new Dictionary<string, object>
    {
        ["images_per_s"] = Math.Round(ImagesPerSecond, 3),
        ["onednn_fraction"] = Math.Round(OneDnnFraction, 4),
        ["peak_rss_mb"] = Math.Round(PeakRssMb, 1),
        ["peak_tensor_mb"] = Math.Round(PeakTensorMb, 1),
        ["forward_tensor_mb"] = Math.Round(ForwardTensorMb, 1),
        ["step_seconds_median"] = Math.Round(StepSecondsMedian, 4),
        ["train_gflop_per_image"] = Math.Round(TrainGflopsPerImage, 3),
        ["achieved_gflops"] = Math.Round(AchievedGflops, 1),
        ["fma_peak_gflops"] = Math.Round(PeakGflops, 1),
        ["fma_peak_threads"] = PeakThreads,
        ["fraction_of_fma_peak"] = Math.Round(FractionOfPeak, 3),
        ["cpu_seconds_per_step_median"] = Math.Round(CpuSecondsMedian, 4),
        ["step_seconds"] = StepSeconds.Select(x => Math.Round(x, 4)).ToArray(),
        ["backbone"] = Backbone,
        ["batch"] = Batch,
        ["precision"] = Precision,
        ["steps"] = Steps,
        ["input"] = $"{options.Height}x{options.Width}",
        ["parameters"] = Parameters,
        ["onednn_version"] = EngineInfo.OneDnnVersion,
        ["cpu"] = CpuCapabilities.Current,
        ["omp_num_threads"] = Environment.GetEnvironmentVariable("OMP_NUM_THREADS") ?? $"(unset: {Environment.ProcessorCount} cores)",
        ["load_average_at_start"] = loadAverageAtStart,
    };
}

/// <summary>
/// Times full training steps (forward, cross-entropy over a BNNeck head, backward, SGD with momentum) on a
/// synthetic batch — the same model and step as bench/pytorch/train_bench.py, so the two compare directly.
/// onednn_fraction is the time inside dnnl_primitive_execute over the whole step time, summed over timed steps.
/// </summary>
public static class TrainBenchmark
{
    public static TrainBenchmarkResult Run(TrainBenchmarkOptions o, Action<int, double>? progress = null)
    {
        var config = new ModelConfig { Backbone = o.Backbone, Classes = o.Classes };
        var model = new ReidModel(config);
        model.Train();
        var groups = ParameterGroups.Build(ModelParameters.Of(model), 0.01, 0.01, 5e-4, [ReidModel.HeadPrefix]);
        var sgd = new Sgd(groups, momentum: 0.9);
        var rng = new Rng(1);
        using var images = Tensor.RandomNormal(rng, 0, 1, o.Batch, 3, o.Height, o.Width);
        var oneHot = new float[o.Batch * o.Classes];
        for (int i = 0; i < o.Batch; i++) oneHot[i * o.Classes + rng.NextInt(o.Classes)] = 1;
        using var targets = Tensor.FromArray(oneHot, o.Batch, o.Classes);

        var times = new List<double>();
        var cpuTimes = new List<double>();
        using var process = Process.GetCurrentProcess();
        long oneDnnTicks = 0, stepTicks = 0, forwardBytes = 0;
        for (int s = 0; s < o.WarmupSteps + o.Steps; s++)
        {
            if (s == o.WarmupSteps) TensorPool.ResetPeak();
            EngineInfo.ResetCounters();
            process.Refresh();
            var cpuStart = process.TotalProcessorTime;
            var start = Stopwatch.GetTimestamp();
            using (new TensorScope())
            using (Precision.Use(o.Precision))
            {
                var (_, logits) = model.ForwardTrain(images);
                // Cross-entropy: −mean over the batch of log-softmax at the true class (one-hot mask).
                var loss = Ops.Scale(Ops.Sum(Ops.Mul(Ops.LogSoftmax(logits), targets)), -1f / o.Batch);
                if (s >= o.WarmupSteps) forwardBytes = Math.Max(forwardBytes, TensorPool.BytesInUse);
                loss.Backward();
                // Inside the scope: gradients made during Backward belong to it.
                sgd.Step();
                model.ZeroGrad();
            }
            var ticks = Stopwatch.GetTimestamp() - start;
            process.Refresh();
            var cpu = (process.TotalProcessorTime - cpuStart).TotalSeconds;
            if (s >= o.WarmupSteps)
            {
                times.Add((double)ticks / Stopwatch.Frequency);
                cpuTimes.Add(cpu);
                stepTicks += ticks;
                oneDnnTicks += EngineInfo.OneDnnTicks;
                progress?.Invoke(s - o.WarmupSteps + 1, times[^1]);
            }
        }
        var median = Median(times);
        var peakThreads = int.TryParse(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), out var omp) && omp > 0 ? omp : Environment.ProcessorCount;
        return new TrainBenchmarkResult(o.Backbone, o.Batch, o.Precision == ComputePrecision.BF16 ? "bf16" : "f32", o.Steps,
            o.Batch / median, median, (double)oneDnnTicks / stepTicks, PeakRssMb(), TensorPool.PeakBytesInUse / 1048576.0,
            model.ParameterCount(), times)
        {
            CpuSecondsMedian = Median(cpuTimes), ForwardTensorMb = forwardBytes / 1048576.0,
            TrainGflopsPerImage = 3 * ForwardGflops(model, o.Height, o.Width),
            PeakGflops = Reid.Inference.Profiling.MachinePeak.MeasureGflops(peakThreads, TimeSpan.FromSeconds(2)),
            PeakThreads = peakThreads,
        };
    }

    /// <summary>Forward GFLOP of one image, counted on the model's own ONNX export (the same counter `reid bench embed` uses).</summary>
    private static double ForwardGflops(ReidModel model, int height, int width)
    {
        var path = Path.Combine(Path.GetTempPath(), $"reid-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.onnx");
        try
        {
            Export.OnnxExporter.Save(model, path, new Export.ExportOptions { Height = height, Width = width });
            return Reid.Inference.Profiling.ModelFlops.Measure(path, height, width).Flops / 1e9;
        }
        finally { File.Delete(path); }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The process's peak resident set (VmHWM), in MB; NaN where /proc is not available.</summary>
    public static double PeakRssMb()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException) { }
        return double.NaN;
    }
}
