using System.Runtime.InteropServices;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Reid.Core;
using Reid.Training.Config;
using Reid.Training.Trainer;
using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid train --config RECIPE [--resume] [--out DIR] [--json FILE]`: trains a ReID model from a recipe with a
/// live progress bar; Ctrl+C checkpoints and stops, `--resume` continues from the last checkpoint.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "Experiment recipe (YAML), e.g. configs/osnet_x0_25_finetune.yaml", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in the output folder from its last checkpoint" };
        var output = new Option<string?>("--out") { Description = "Run folder (overrides the recipe's output)" };
        var json = new Option<string?>("--json") { Description = "Write the run's summary (figures, paths, wall time) as JSON to this file" };
        var exportTo = new Option<string?>("--export") { Description = "Do not train: export the finished run in the output folder again to this ONNX file (with --wise-ft / --bn-refresh)" };
        var wiseFt = new Option<double?>("--wise-ft") { Description = "With --export: WiSE-FT weight of the trained backbone, 0-1 (default: the recipe's export.wise_ft)" };
        var bnRefresh = new Option<int?>("--bn-refresh") { Description = "With --export: training images to recompute BatchNorm statistics on after WiSE-FT (default: the recipe's export.bn_refresh_images)" };
        var command = new Command("train", "Train a ReID model from a recipe (checkpoints, resume, curves, ONNX export, model card)");
        foreach (var o in new Option[] { config, resume, output, json, exportTo, wiseFt, bnRefresh }) command.Options.Add(o);

        command.SetAction(parse =>
        {
            var recipePath = parse.GetValue(config)!;
            var cfg = ExperimentConfigLoader.Load(recipePath);
            if (parse.GetValue(output) is { } o) cfg = cfg with { Output = Path.GetFullPath(o) };
            var options = new TrainerOptions
            {
                Command = "reid " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
                RecipePath = recipePath,
                RecipeText = File.ReadAllText(recipePath),
            };
            var run = new TrainingRun(cfg, options);
            Console.WriteLine(run.PrecisionNote);
            if (parse.GetValue(exportTo) is { } exportPath)
            {
                var note = run.ExportWiseFt(parse.GetValue(wiseFt) ?? cfg.Export.WiseFt, parse.GetValue(bnRefresh) ?? cfg.Export.BnRefreshImages, Path.GetFullPath(exportPath));
                Console.WriteLine($"model      : {Path.GetFullPath(exportPath)} ({note})");
                return CliRunner.Ok;
            }
            if (parse.GetValue(wiseFt) is not null || parse.GetValue(bnRefresh) is not null)
                throw new ReidException("--wise-ft and --bn-refresh re-export a finished run: add --export FILE (a training run takes them from the recipe's export section)");
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            // SIGTERM (systemd/docker stop, `kill`) stops as cleanly as Ctrl+C: checkpoint, then exit; background
            // runs never see Ctrl+C (a non-interactive shell starts them with SIGINT ignored).
            using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cancel.Cancel(); });
            TrainResult result;
            try { result = Run(run, parse.GetValue(resume), cancel.Token); }
            finally { Console.CancelKeyPress -= onCancel; }

            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine($"run folder : {result.OutputDir}");
            Console.WriteLine($"epochs     : {result.EpochsDone}/{cfg.Training.Epochs}, wall time {TimeSpan.FromSeconds(result.WallSeconds):hh\\:mm\\:ss} (summed over resumed runs), waited for data {result.DataWaitSeconds.ToString("0.0", inv)} s");
            var scoredOn = cfg.Evaluation.On == EvaluationSet.Split ? "the split's query/gallery: test data, not for choosing a recipe" : "fold of the training identities";
            if (result.Rank1 is { } r1) Console.WriteLine($"evaluation : Rank-1 {r1.ToString("0.000", inv)}  mAP {result.MeanAP!.Value.ToString("0.000", inv)} ({scoredOn})");
            Console.WriteLine($"curves     : {result.CurvesPath}");
            if (result.ModelPath is not null) Console.WriteLine($"model      : {result.ModelPath}\nmodel card : {result.ModelCardPath}");
            if (parse.GetValue(json) is { } jsonPath)
                File.WriteAllText(jsonPath, JsonSerializer.Serialize(new
                {
                    completed = result.Completed, epochs_done = result.EpochsDone, output = result.OutputDir, checkpoint = result.CheckpointPath,
                    model = result.ModelPath, model_card = result.ModelCardPath, curves = result.CurvesPath, wall_s = result.WallSeconds,
                    data_wait_s = result.DataWaitSeconds, validation_rank1 = result.Rank1, validation_map = result.MeanAP,
                }, ReidJson.Options));
            if (!result.Completed)
                throw new ReidException($"interrupted after {result.EpochsDone} full epoch(s); checkpoint saved in {result.CheckpointPath}; continue with --resume");
            return CliRunner.Ok;
        });
        return command;
    }

    private static TrainResult Run(TrainingRun run, bool resume, CancellationToken cancel)
    {
        if (Console.IsOutputRedirected)
        {
            // plain lines for logs: one per epoch phase change, not a redrawn bar
            var lastEpoch = -1;
            var evaluating = false;
            return run.Run(resume, new Progress(p =>
            {
                // the first report after an "evaluating" one carries that evaluation's figures
                if (evaluating && p.Phase != "evaluating" && p.LastRank1 is { } r)
                {
                    var inv = CultureInfo.InvariantCulture;
                    Console.WriteLine($"evaluated: Rank-1 {r.ToString("0.000", inv)} mAP {p.LastMeanAP!.Value.ToString("0.000", inv)}");
                }
                evaluating = p.Phase == "evaluating";
                if (p.Epoch == lastEpoch && p.Phase == "training") return;
                lastEpoch = p.Epoch;
                Console.WriteLine($"{p.Phase} epoch {p.Epoch}/{p.Epochs}");
            }), cancel);
        }
        TrainResult result = null!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: 1);
                result = run.Run(resume, new Progress(p =>
                {
                    var inv = CultureInfo.InvariantCulture;
                    var losses = string.Join(" ", p.Losses.Select(kv => $"{kv.Key} {kv.Value.ToString("0.000", inv)}"));
                    var val = p.LastRank1 is { } r ? $" | eval R1 {r.ToString("0.000", inv)} mAP {p.LastMeanAP!.Value.ToString("0.000", inv)}" : "";
                    task.Description = Markup.Escape(
                        $"{p.Phase} epoch {p.Epoch}/{p.Epochs} batch {p.Batch}/{p.Batches} | {losses} | acc {p.Accuracy.ToString("0.000", inv)} | " +
                        $"{p.ImagesPerSecond.ToString("0.0", inv)} img/s | ETA {p.Eta:hh\\:mm\\:ss}{val}");
                    task.MaxValue = Math.Max(1, p.Epochs * Math.Max(1, p.Batches));
                    task.Value = Math.Max(0, (p.Epoch - 1) * p.Batches + p.Batch);
                }), cancel);
                task.Value = task.MaxValue;
            });
        return result;
    }

    /// <summary>Reports on the calling thread (System.Progress would post to the thread pool, out of order).</summary>
    private sealed class Progress(Action<TrainProgress> report) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => report(value);
    }
}
