using System.CommandLine;
using System.Text.Json;
using Reid.Core;
using Reid.Engine.Tensors;
using Reid.Training.Benchmark;
using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid bench train`: training throughput of a backbone (images/s), the share of the step spent inside
/// oneDNN primitives, and peak memory. bench/pytorch/train_bench.py trains the same model for comparison and
/// bench/train_side_by_side.sh runs the two in turns.
/// </summary>
internal static class BenchTrainCommand
{
    public static Command Create()
    {
        var backbone = new Option<string>("--backbone") { Description = "resnet50 or osnet_x1_0 (any known backbone works)", DefaultValueFactory = _ => "resnet50" };
        var batch = new Option<int>("--batch") { Description = "Images per step", DefaultValueFactory = _ => 64 };
        var precision = new Option<string>("--precision") { Description = "auto, f32 or bf16 (bf16 convolutions and matrix products, f32 master weights; auto: bf16 where oneDNN runs it natively)", DefaultValueFactory = _ => "f32" };
        precision.AcceptOnlyFromAmong("auto", "f32", "bf16");
        var steps = new Option<int>("--steps") { Description = "Timed training steps (after one untimed warm-up step)", DefaultValueFactory = _ => 5 };
        var height = new Option<int>("--height") { Description = "Input height", DefaultValueFactory = _ => 256 };
        var width = new Option<int>("--width") { Description = "Input width", DefaultValueFactory = _ => 128 };
        var json = new Option<string?>("--json") { Description = "Also write the figures to this JSON file" };
        var command = new Command("train", "Training throughput (images/s), oneDNN share of the step and peak memory")
        {
            backbone, batch, precision, steps, height, width, json,
        };
        command.SetAction(parse =>
        {
            var cpu = CpuCapabilities.Current;
            var (compute, note) = cpu.Resolve(Enum.Parse<PrecisionSetting>(parse.GetValue(precision)!, ignoreCase: true));
            Console.Error.WriteLine(note);
            var label = $"{parse.GetValue(backbone)} batch {parse.GetValue(batch)} {(compute == ComputePrecision.BF16 ? "bf16" : "f32")}";
            var options = new TrainBenchmarkOptions
            {
                Backbone = parse.GetValue(backbone)!,
                Batch = parse.GetValue(batch),
                Precision = compute,
                Steps = parse.GetValue(steps),
                Height = parse.GetValue(height),
                Width = parse.GetValue(width),
            };
            if (options.Batch < 1 || options.Steps < 1 || options.Height < 32 || options.Width < 32)
                throw new ReidException("--batch and --steps must be at least 1, --height and --width at least 32");
            var load = BenchmarkMachine.LoadAverage();
            TrainBenchmarkResult result = null!;
            AnsiConsole.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask($"{label}: warm-up", maxValue: options.Steps);
                    result = TrainBenchmark.Run(options, (step, seconds) =>
                    {
                        task.Description = $"{label}: step {step} {seconds:F2} s";
                        task.Increment(1);
                    });
                });
            var figures = result.Figures(options, load);
            var table = new Table().AddColumns("figure", "value");
            foreach (var key in new[] { "images_per_s", "onednn_fraction", "achieved_gflops", "fraction_of_fma_peak", "peak_rss_mb", "step_seconds_median", "load_average_at_start" })
                table.AddRow(key, Convert.ToString(figures[key], System.Globalization.CultureInfo.InvariantCulture) ?? "");
            AnsiConsole.Write(table);
            if (parse.GetValue(json) is { } path)
                File.WriteAllText(path, JsonSerializer.Serialize(figures, ReidJson.Options) + "\n");
            return CliRunner.Ok;
        });
        return command;
    }
}
