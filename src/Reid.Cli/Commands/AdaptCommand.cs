using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Reid.Core;
using Reid.Data;
using Reid.Training.Adaptation;
using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid adapt --model M --images DIR [--images DIR …] --out RUN`: adapts a ReID model to a user's cameras from
/// unlabelled crops (Cluster Contrast); `--score-dataset/--score-root` report labelled figures before and after.
/// </summary>
internal static class AdaptCommand
{
    // the command's defaults are the library's, stated once there
    private static readonly AdaptOptions Defaults = new() { Model = "", Images = [], Output = "" };

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "ONNX model to adapt (default: the project's shipped model)" };
        var images = new Option<string[]>("--images") { Description = "Folder of unlabelled person crops (searched recursively; repeat for several)", Required = true, AllowMultipleArgumentsPerToken = false };
        var output = new Option<string>("--out") { Description = "Run folder: checkpoint, model.onnx, MODEL_CARD.md", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the adaptation in --out from its last epoch" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs (each re-clusters every crop)", DefaultValueFactory = _ => Defaults.Epochs };
        var steps = new Option<int>("--steps") { Description = "Training steps an epoch", DefaultValueFactory = _ => Defaults.StepsPerEpoch };
        var eps = new Option<double>("--eps") { Description = "DBSCAN radius on the k-reciprocal Jaccard distance (0-1)", DefaultValueFactory = _ => Defaults.Eps };
        var minSamples = new Option<int>("--min-samples") { Description = "DBSCAN: crops within eps that make a core point", DefaultValueFactory = _ => Defaults.MinSamples };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => Defaults.LearningRate };
        var backbone = new Option<string>("--backbone") { Description = "Backbone of a model without reid.architecture metadata (e.g. ../shared's OSNet)", DefaultValueFactory = _ => "osnet_x0_25" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var scoreDataset = new Option<string?>("--score-dataset") { Description = "Labelled data to report Rank-1/mAP on before and after (market1501 | cuhk03 | folders | csv); never trained on" };
        var scoreRoot = new Option<string?>("--score-root") { Description = "Root of --score-dataset" };
        var scoreSplit = new Option<string?>("--score-split") { Description = "Split folder of --score-dataset (query.txt, gallery.txt)" };
        var scoreEvery = new Option<int>("--score-every") { Description = "Also score every N epochs (0: before and after only)" };
        var json = new Option<string?>("--json") { Description = "Write the run's summary as JSON to this file" };
        var command = new Command("adapt", "Adapt a ReID model to your cameras from unlabelled person crops (clustering + cluster contrast), with checkpoints and resume");
        foreach (var o in new Option[] { model, images, output, resume, epochs, steps, eps, minSamples, lr, backbone, seed, scoreDataset, scoreRoot, scoreSplit, scoreEvery, json })
            command.Options.Add(o);

        command.SetAction(parse =>
        {
            ReidDataset? score = null;
            if (parse.GetValue(scoreDataset) is { } kind)
            {
                var root = parse.GetValue(scoreRoot) ?? throw new ReidException("--score-dataset needs --score-root");
                score = DatasetLoader.Load(new DatasetSpec(DatasetLoader.ParseKind(kind), Path.GetFullPath(root), parse.GetValue(scoreSplit) is { } s ? Path.GetFullPath(s) : null));
            }
            var options = new AdaptOptions
            {
                Model = Path.GetFullPath(EmbeddingCommandSupport.ModelPath(parse, model)),
                Images = parse.GetValue(images)!.Select(Path.GetFullPath).ToList(),
                Output = Path.GetFullPath(parse.GetValue(output)!),
                Epochs = parse.GetValue(epochs), StepsPerEpoch = parse.GetValue(steps), Eps = parse.GetValue(eps),
                MinSamples = parse.GetValue(minSamples), LearningRate = parse.GetValue(lr), Backbone = parse.GetValue(backbone)!,
                Seed = parse.GetValue(seed), Score = score, ScoreEvery = parse.GetValue(scoreEvery),
                Command = "reid " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            };
            var run = new AdaptationRun(options);
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCancel;
            using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cancel.Cancel(); });
            AdaptResult result;
            try { result = Run(run, parse.GetValue(resume), cancel.Token); }
            finally { Console.CancelKeyPress -= onCancel; }

            var inv = CultureInfo.InvariantCulture;
            var last = result.Epochs.Count > 0 ? result.Epochs[^1] : null;
            Console.WriteLine($"crops      : {result.Images}{(result.SkippedImages > 0 ? $" ({result.SkippedImages} unreadable, left out)" : "")}");
            if (last is not null) Console.WriteLine($"clusters   : {last.Clusters} pseudo-identities, {last.Outliers} outliers (last epoch)");
            if (result.Before is { } b) Console.WriteLine($"before     : Rank-1 {b.Rank1.ToString("0.000", inv)}  mAP {b.MeanAP.ToString("0.000", inv)} on {options.Score!.Name}");
            if (result.After is { } a) Console.WriteLine($"after      : Rank-1 {a.Rank1.ToString("0.000", inv)}  mAP {a.MeanAP.ToString("0.000", inv)}");
            if (AdaptationRun.WorseWarning(result.Before, result.After, options.Score?.Name ?? "") is { } worse) Console.Error.WriteLine($"reid: warning: {worse}");
            Console.WriteLine($"wall time  : {TimeSpan.FromSeconds(result.WallSeconds):hh\\:mm\\:ss}");
            if (result.ModelPath is not null) Console.WriteLine($"model      : {result.ModelPath}\nmodel card : {result.CardPath}");
            if (parse.GetValue(json) is { } jsonPath)
                File.WriteAllText(jsonPath, JsonSerializer.Serialize(new
                {
                    completed = result.Completed, output = result.OutputDir, model = result.ModelPath, model_card = result.CardPath,
                    images = result.Images, skipped_images = result.SkippedImages, wall_s = result.WallSeconds,
                    before = result.Before is { } bb ? new { rank1 = bb.Rank1, map = bb.MeanAP } : null,
                    after = result.After is { } aa ? new { rank1 = aa.Rank1, map = aa.MeanAP } : null,
                    epochs = result.Epochs.Select(e => new { epoch = e.Epoch, clusters = e.Clusters, clustered = e.Clustered, outliers = e.Outliers, loss = e.Loss, seconds = e.Seconds, rank1 = e.Rank1, map = e.MeanAP }),
                }, ReidJson.Options));
            if (!result.Completed)
                throw new ReidException($"interrupted after {result.Epochs.Count} epoch(s); checkpoint saved in {run.CheckpointPath}; continue with --resume");
            return CliRunner.Ok;
        });
        return command;
    }

    private static AdaptResult Run(AdaptationRun run, bool resume, CancellationToken cancel)
    {
        var inv = CultureInfo.InvariantCulture;
        return EpochProgress.Show<AdaptProgress, AdaptResult>(progress => run.Run(resume, progress, cancel),
            p => (p.Phase, p.Epoch, p.Epochs, p.Step, p.Steps),
            p => p.Phase == "training"
                ? $"training epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.Steps} | {p.Clusters} clusters, {p.Outliers} outliers | loss {p.Loss.ToString("0.000", inv)}"
                : $"{p.Phase} epoch {p.Epoch}/{p.Epochs}",
            p => p.Phase == "training"
                ? $"training epoch {p.Epoch}/{p.Epochs}: {p.Clusters} clusters, {p.Outliers} outliers"
                : $"{p.Phase} epoch {p.Epoch}/{p.Epochs}");
    }
}
