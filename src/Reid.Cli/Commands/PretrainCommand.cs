using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Reid.Core;
using Reid.Data;
using Reid.Training.Pretraining;
using Reid.Video;
using Reid.Video.Mining;
using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid pretrain [--images DIR …] [--video V … --store FILE] --out RUN`: MoCo v2 self-supervised pre-training on unlabelled person
/// crops; writes a backbone that `reid train` (architecture.init) and `reid adapt` (--model) start from.
/// </summary>
internal static class PretrainCommand
{
    public static Command Create()
    {
        var images = new Option<string[]>("--images") { Description = "Folder of unlabelled person crops (searched recursively; repeat for several)" };
        var videos = new Option<string[]>("--video") { Description = "Video to mine person crops from (detector + tracker; repeat for several); needs --store" };
        var store = new Option<string?>("--store") { Description = "Packed crop store (one SQLite file): mined crops go here, and its crops are trained on" };
        var detector = new Option<string?>("--detector") { Description = "Person detector ONNX for --video (default: the one `reid track` uses)" };
        var output = new Option<string>("--out") { Description = "Run folder: checkpoint, model.onnx (the backbone), MODEL_CARD.md", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last epoch" };
        var backbone = new Option<string>("--backbone") { DefaultValueFactory = _ => "osnet_x0_25" };
        var init = new Option<string>("--init") { Description = "random, or an ONNX model of the backbone to start from", DefaultValueFactory = _ => "random" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 20 };
        var steps = new Option<int>("--steps") { Description = "Steps an epoch (0: every crop once)" };
        var batch = new Option<int>("--batch") { Description = "Crops a step (two views each)", DefaultValueFactory = _ => 64 };
        var queue = new Option<int>("--queue") { Description = "Negative keys kept", DefaultValueFactory = _ => 4096 };
        var lr = new Option<double>("--lr") { Description = "SGD learning rate (cosine decay)", DefaultValueFactory = _ => 0.0075 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var json = new Option<string?>("--json") { Description = "Write the run's summary as JSON to this file" };
        var command = new Command("pretrain", "Self-supervised pre-training (MoCo v2) on unlabelled person crops: an init for reid train and reid adapt");
        foreach (var o in new Option[] { images, videos, store, detector, output, resume, backbone, init, epochs, steps, batch, queue, lr, seed, json }) command.Options.Add(o);

        command.SetAction(parse =>
        {
            var initValue = parse.GetValue(init)!;
            var storePath = parse.GetValue(store) is { } sp ? Path.GetFullPath(sp) : null;
            if (parse.GetValue(videos) is { Length: > 0 } videoList)
            {
                if (storePath is null) throw new ReidException("--video needs --store FILE: the packed crop store the mined crops go to");
                MineVideos(videoList, storePath, parse.GetValue(detector));
            }
            var options = new PretrainOptions
            {
                Images = (parse.GetValue(images) ?? []).Select(Path.GetFullPath).ToList(),
                Stores = storePath is null ? [] : [storePath],
                Output = Path.GetFullPath(parse.GetValue(output)!),
                Backbone = parse.GetValue(backbone)!,
                Init = initValue.Equals("random", StringComparison.OrdinalIgnoreCase) ? "random" : Path.GetFullPath(initValue),
                Epochs = parse.GetValue(epochs), StepsPerEpoch = parse.GetValue(steps), BatchSize = parse.GetValue(batch),
                QueueSize = parse.GetValue(queue), LearningRate = parse.GetValue(lr), Seed = parse.GetValue(seed),
                Command = "reid " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            };
            var run = new PretrainRun(options);
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCancel;
            using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cancel.Cancel(); });
            PretrainResult result;
            try { result = Run(run, parse.GetValue(resume), cancel.Token); }
            finally { Console.CancelKeyPress -= onCancel; }

            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine($"crops      : {result.Images}");
            if (result.Epochs.Count > 0)
            {
                var e = result.Epochs[^1];
                Console.WriteLine($"last epoch : InfoNCE {e.Loss.ToString("0.000", inv)}, own key first {e.Accuracy.ToString("0.000", inv)}, {e.ImagesPerSecond.ToString("0.0", inv)} img/s");
            }
            Console.WriteLine($"wall time  : {TimeSpan.FromSeconds(result.WallSeconds):hh\\:mm\\:ss}");
            if (result.ModelPath is not null) Console.WriteLine($"model      : {result.ModelPath} (use as architecture.init)\nmodel card : {result.CardPath}");
            if (parse.GetValue(json) is { } jsonPath)
                File.WriteAllText(jsonPath, JsonSerializer.Serialize(new
                {
                    completed = result.Completed, output = result.OutputDir, model = result.ModelPath, model_card = result.CardPath,
                    images = result.Images, wall_s = result.WallSeconds,
                    epochs = result.Epochs.Select(e => new { epoch = e.Epoch, loss = e.Loss, accuracy = e.Accuracy, seconds = e.Seconds, images_per_s = e.ImagesPerSecond }),
                }, ReidJson.Options));
            if (!result.Completed)
                throw new ReidException($"interrupted after {result.Epochs.Count} epoch(s); checkpoint saved in {run.CheckpointPath}; continue with --resume");
            return CliRunner.Ok;
        });
        return command;
    }

    /// <summary>Mines each video's tracked people into the store (videos mined before are skipped), saying what each gave.</summary>
    private static void MineVideos(IReadOnlyList<string> videos, string storePath, string? detector)
    {
        foreach (var v in videos)
            if (!File.Exists(v)) throw new ReidException($"video '{v}' not found");
        using var crops = CropStore.OpenOrCreate(storePath);
        using var extractor = new VideoPersonExtractor(VideoConfig.LoadDefault(), detector);
        foreach (var v in videos)
        {
            var mined = CropMiner.Mine(extractor, v, crops);
            Console.WriteLine(mined.AlreadyMined
                ? $"mined      : {v}: already in {storePath}"
                : $"mined      : {v}: {mined.Tracks} tracks, {mined.Crops} crops stored ({mined.FlawedCropsLeftOut} flawed left out)");
        }
        if (crops.Count == 0) throw new ReidException($"no person crops found in {string.Join(", ", videos)}: the detector saw nobody it could track; try other videos or --detector");
        Console.WriteLine($"crop store : {storePath} ({crops.Count} crops)");
    }

    private static PretrainResult Run(PretrainRun run, bool resume, CancellationToken cancel)
    {
        var inv = CultureInfo.InvariantCulture;
        return EpochProgress.Show<PretrainProgress, PretrainResult>(progress => run.Run(resume, progress, cancel),
            p => (p.Phase, p.Epoch, p.Epochs, p.Step, p.Steps),
            p => p.Phase == "training"
                ? $"training epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.Steps} | InfoNCE {p.Loss.ToString("0.000", inv)} | own key first {p.Accuracy.ToString("0.000", inv)}"
                : $"{p.Phase} epoch {p.Epoch}/{p.Epochs}",
            p => $"{p.Phase} epoch {p.Epoch}/{p.Epochs}");
    }
}
