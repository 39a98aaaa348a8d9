using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Data;
using Reid.Engine.Autograd;
using Reid.Engine.Checkpoints;
using Reid.Engine.Optim;
using Reid.Engine.Tensors;
using Reid.Training.Backbones;
using Reid.Training.Config;
using Reid.Training.Data;
using Reid.Training.Export;
using Reid.Training.Import;
using Reid.Training.Losses;
using Tensor = Reid.Engine.Tensors.Tensor;

namespace Reid.Training.Pretraining;

/// <summary>What `reid pretrain` is asked to do; defaults follow MoCo v2 (Chen et al. 2020) scaled to a CPU batch.</summary>
public sealed record PretrainOptions
{
    /// <summary>Folders of unlabelled person crops (searched recursively); any labels in names are ignored.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];
    /// <summary>Packed crop stores (<see cref="CropStore"/>, e.g. crops mined from videos); read with the folders.</summary>
    public IReadOnlyList<string> Stores { get; init; } = [];
    public required string Output { get; init; }
    public string Backbone { get; init; } = "osnet_x0_25";
    /// <summary>"random" or an ONNX model to start the backbone from.</summary>
    public string Init { get; init; } = "random";
    public int Height { get; init; } = 256;
    public int Width { get; init; } = 128;
    public int Epochs { get; init; } = 20;
    /// <summary>0: as many steps as cover every crop once.</summary>
    public int StepsPerEpoch { get; init; }
    public int BatchSize { get; init; } = 64;
    public int QueueSize { get; init; } = 4096;
    public int ProjectionDim { get; init; } = 128;
    public double Momentum { get; init; } = 0.999;
    public double Temperature { get; init; } = 0.2;
    public double LearningRate { get; init; } = 0.03 * 64 / 256;
    public double WeightDecay { get; init; } = 1e-4;
    public int Seed { get; init; } = 1;
    public int Workers { get; init; } = 2;
    public PrecisionSetting Precision { get; init; } = PrecisionSetting.Auto;
    public int MinImages { get; init; } = 64;
    public string Command { get; init; } = "reid pretrain";
}

public sealed record PretrainProgress(string Phase, int Epoch, int Epochs, int Step, int Steps, double Loss, double Accuracy);

/// <summary>One epoch: mean InfoNCE loss and how often a query's own key beat every queued key.</summary>
public sealed record PretrainEpoch(int Epoch, double Loss, double Accuracy, double Seconds, double ImagesPerSecond);

public sealed record PretrainResult(bool Completed, string OutputDir, string? ModelPath, string? CardPath, IReadOnlyList<PretrainEpoch> Epochs, double WallSeconds, int Images);

/// <summary>
/// Self-supervised pre-training on unlabelled person crops with MoCo v2 (He et al. 2020; Chen et al. 2020; for
/// person ReID: Fu et al. 2021, LUPerson): two augmentations of each crop, one through the query encoder and one
/// through its momentum copy, InfoNCE against a queue of earlier keys; SGD with cosine decay. The export is the bare
/// backbone (the MLP projection is dropped), which `reid train` (architecture.init) and `reid adapt` accept.
/// Checkpoints after every epoch; a resumed run continues with the next epoch.
/// </summary>
public sealed class PretrainRun(PretrainOptions options)
{
    public const string CheckpointFile = "pretrain.reidckpt";
    private readonly PretrainOptions _o = Validate(options);

    public string CheckpointPath => Path.Combine(_o.Output, CheckpointFile);

    public static PretrainOptions Validate(PretrainOptions o)
    {
        var p = new List<string>();
        if (o.Images.Count + o.Stores.Count == 0) p.Add("give at least one folder of person crops or a crop store");
        foreach (var dir in o.Images) if (!Directory.Exists(dir)) p.Add($"image folder '{dir}' not found");
        foreach (var store in o.Stores) if (!File.Exists(store)) p.Add($"crop store '{store}' not found");
        if (!BackboneRegistry.IsKnown(o.Backbone)) p.Add(BackboneRegistry.Unknown(o.Backbone));
        if (!string.Equals(o.Init, "random", StringComparison.OrdinalIgnoreCase) && !File.Exists(o.Init)) p.Add($"init model '{o.Init}' not found");
        void Range(string name, double v, double lo, double hi) { if (v < lo || v > hi) p.Add($"{name} = {v} is out of range; allowed [{lo}, {hi}]"); }
        Range("epochs", o.Epochs, 1, 10_000);
        Range("steps per epoch", o.StepsPerEpoch, 0, 1_000_000);
        Range("batch size", o.BatchSize, 4, 4096);
        Range("queue size", o.QueueSize, o.BatchSize, 1_000_000);
        Range("projection size", o.ProjectionDim, 8, 4096);
        Range("momentum", o.Momentum, 0, 0.99999);
        Range("temperature", o.Temperature, 1e-3, 10);
        Range("learning rate", o.LearningRate, 1e-8, 10);
        Range("image height", o.Height, 32, 1024);
        Range("image width", o.Width, 16, 1024);
        if (p.Count > 0) throw new ReidException("reid pretrain: " + string.Join("; ", p));
        return o;
    }

    public PretrainResult Run(bool resume, IProgress<PretrainProgress>? progress = null, CancellationToken cancel = default)
    {
        var o = _o;
        Directory.CreateDirectory(o.Output);
        if (!resume && File.Exists(CheckpointPath))
            throw new ReidException($"{o.Output} already holds a pre-training run ({CheckpointFile}); add --resume to continue it or choose another --out");
        var (precisionSetting, precisionNote) = CpuCapabilities.Current.Resolve(o.Precision);
        var clock = Stopwatch.StartNew();

        progress?.Report(new PretrainProgress("reading images", 0, o.Epochs, 0, 0, 0, 0));
        var paths = o.Images.SelectMany(d => ImageFiles.List(d, recursive: true)).Distinct(StringComparer.Ordinal).ToList();
        var stores = o.Stores.Select(CropStore.Open).ToList();
        using var closeStores = new Disposables(stores);
        var images = TrainImages.Concat([TrainImages.Files(paths), .. stores.Select(st => TrainImages.Store(st, st.Ids()))]);
        if (images.Count < Math.Max(o.MinImages, o.BatchSize))
            throw new ReidException($"found {images.Count} image(s) in {string.Join(", ", o.Images.Concat(o.Stores))}; pre-training needs at least {Math.Max(o.MinImages, o.BatchSize)} " +
                "unlabelled person crops (ideally hundreds of thousands): add folders of crops, or mine videos with --video");
        var steps = o.StepsPerEpoch > 0 ? o.StepsPerEpoch : Math.Max(1, images.Count / o.BatchSize);

        var config = new ModelConfig { Backbone = o.Backbone, BnNeck = false };
        var rng = new Rng(Seeds.Of(o.Seed, Seeds.Model));
        MocoModel moco;
        var previous = Rng.Shared;
        Rng.Shared = rng;
        try { moco = new MocoModel(config, o.ProjectionDim, o.QueueSize); }
        finally { Rng.Shared = previous; }
        var initNote = "random";
        if (!string.Equals(o.Init, "random", StringComparison.OrdinalIgnoreCase))
        {
            var report = OnnxWeightImporter.Import(o.Init, moco.Query.Encoder.Backbone);
            initNote = $"{Path.GetFileName(o.Init)} ({report.TensorsCopied} tensors)";
            moco.CopyQueryIntoKey();
        }
        var architecture = $"moco/{config.Architecture}/proj{o.ProjectionDim}/queue{o.QueueSize}";
        var groups = ParameterGroups.Build(ModelParameters.Of(moco.Query), o.LearningRate, o.LearningRate, o.WeightDecay, ["projection."]);
        var optimizer = new Sgd(groups, 0.9, false, new WarmupCosineSchedule(0, (long)o.Epochs * steps, 1, 0));
        var accumulator = new GradientAccumulator(optimizer, 1);

        var epochs = new List<PretrainEpoch>();
        var startEpoch = 0;
        var wallBefore = 0.0;
        if (resume && File.Exists(CheckpointPath))
        {
            var info = Checkpoint.Load(CheckpointPath, architecture, moco, optimizer, rng);
            startEpoch = info.Epoch;
            wallBefore = info.Extra["wall_s"]?.GetValue<double>() ?? 0;
            epochs.AddRange(info.Extra["epochs"].Deserialize<List<PretrainEpoch>>() ?? []);
        }

        // MoCo v2's augmentation as far as this pipeline has it: crop (pad 10 + random crop), strong colour jitter
        // (p 0.8), flip, random erasing; a view per copy of each crop in the batch
        var augmentation = new AugmentationConfig
        {
            ColorJitter = new ColorJitterConfig { Probability = 0.8, Brightness = 0.4, Contrast = 0.4, Saturation = 0.4, Hue = 0.1 },
        };
        var augmenter = new Augmenter(augmentation, o.Height, o.Width, Mean, Std);
        using var precision = Precision.Use(precisionSetting);
        var interrupted = false;
        var len = 3 * o.Height * o.Width;
        for (var epoch = startEpoch; epoch < o.Epochs && !interrupted; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            var order = Enumerable.Range(0, images.Count).ToArray();
            new Random(Seeds.Int(o.Seed, Seeds.Sampler, epoch)).Shuffle(order);
            // each batch lists its crops twice: the loader augments every position independently, so the halves are two views
            var batches = Enumerable.Range(0, steps)
                .Select(b => Enumerable.Range(0, o.BatchSize).Select(i => order[(b * o.BatchSize + i) % order.Length]).ToArray())
                .Select(ids => ids.Concat(ids).ToArray()).ToList();
            var labels = Enumerable.Range(0, images.Count).ToList();
            moco.Train();
            using var loader = new TrainLoader(images, labels, batches, epoch, 0, augmenter, o.Seed, o.Workers, 4);
            var shuffle = new Random(Seeds.Int(o.Seed, Seeds.Augmentation, epoch, 7));
            double lossSum = 0;
            long hits = 0;
            var done = 0;
            while (loader.Next() is { } batch)
            {
                var n = batch.Count / 2;
                var keys = moco.Keys(batch.Images.AsSpan(n * len, n * len), n, o.Height, o.Width, shuffle);
                double value;
                int correct;
                using (var scope = new TensorScope())
                {
                    var q = moco.Query.Forward(Tensor.FromArray(batch.Images.AsSpan(0, n * len), n, 3, o.Height, o.Width));
                    var loss = LossOps.Moco(q, keys, moco.QueueValues, moco.Queued, o.Temperature, out correct);
                    value = loss.Item();
                    if (!double.IsFinite(value))
                        throw new ReidException($"pre-training diverged: the loss is {value} at epoch {epoch + 1}, step {done + 1} (lower --lr)");
                    loss.Backward();
                }
                accumulator.MicroBatchDone();
                moco.MomentumUpdate(o.Momentum);
                moco.Enqueue(keys);
                lossSum += value;
                hits += correct;
                done++;
                progress?.Report(new PretrainProgress("training", epoch + 1, o.Epochs, done, steps, lossSum / done, (double)hits / (done * n)));
                if (cancel.IsCancellationRequested) { interrupted = true; break; }
            }
            if (interrupted) break; // the epoch is redone on resume
            var seconds = epochClock.Elapsed.TotalSeconds;
            epochs.Add(new PretrainEpoch(epoch + 1, lossSum / done, (double)hits / (done * o.BatchSize), seconds, done * o.BatchSize * 2 / seconds));
            Checkpoint.Save(CheckpointPath, architecture, moco, optimizer, epoch + 1, rng, new JsonObject
            {
                ["wall_s"] = wallBefore + clock.Elapsed.TotalSeconds,
                ["epochs"] = JsonSerializer.SerializeToNode(epochs),
            });
        }
        var wall = wallBefore + clock.Elapsed.TotalSeconds;
        if (interrupted) return new PretrainResult(false, o.Output, null, null, epochs, wall, images.Count);

        progress?.Report(new PretrainProgress("exporting", o.Epochs, o.Epochs, 0, 0, 0, 0));
        var modelPath = Path.Combine(o.Output, "model.onnx");
        var encoder = moco.Query.Encoder;
        encoder.Eval();
        OnnxExporter.Save(encoder, modelPath, new ExportOptions
        {
            Height = o.Height, Width = o.Width,
            Metadata = new Dictionary<string, string>
            {
                ["reid.recipe"] = "reid pretrain (MoCo v2)", ["reid.architecture"] = encoder.Config.Architecture, ["reid.init"] = initNote,
                ["reid.trained_on"] = $"{images.Count} unlabelled crops ({string.Join(", ", o.Images.Concat(o.Stores).Select(Path.GetFileName))})",
            },
        });
        var card = WriteCard(o, modelPath, initNote, epochs, wall, images.Count, precisionNote, encoder);
        return new PretrainResult(true, o.Output, modelPath, card, epochs, wall, images.Count);
    }

    private static readonly float[] Mean = [Imaging.Preprocessing.ImageNetMean.Item1, Imaging.Preprocessing.ImageNetMean.Item2, Imaging.Preprocessing.ImageNetMean.Item3];
    private static readonly float[] Std = [Imaging.Preprocessing.ImageNetStd.Item1, Imaging.Preprocessing.ImageNetStd.Item2, Imaging.Preprocessing.ImageNetStd.Item3];

    private static string WriteCard(PretrainOptions o, string modelPath, string initNote, IReadOnlyList<PretrainEpoch> epochs, double wall, int images,
        string precisionNote, ReidModel encoder)
    {
        var inv = CultureInfo.InvariantCulture;
        var cpu = CpuCapabilities.Current;
        var sb = new StringBuilder();
        sb.AppendLine($"# Model card: {Path.GetFileName(modelPath)} (self-supervised pre-training)").AppendLine();
        sb.AppendLine($"- What it is: a `{o.Backbone}` backbone (output batch x {encoder.EmbeddingDim}) pre-trained without labels, to start `reid train` (`architecture.init`) or `reid adapt` from; not a finished ReID model");
        sb.AppendLine($"- Method: MoCo v2 (He et al. 2020; Chen et al. 2020): two augmented views of each crop, query encoder + momentum encoder (m {o.Momentum.ToString(inv)}), MLP projection to {o.ProjectionDim}, queue of {o.QueueSize} keys, InfoNCE at temperature {o.Temperature.ToString(inv)}; SGD {o.LearningRate.ToString(inv)} with cosine decay, batch {o.BatchSize}");
        sb.AppendLine($"- Started from: {initNote}");
        sb.AppendLine($"- Data: {images} unlabelled crops from {string.Join(", ", o.Images.Concat(o.Stores))}");
        sb.AppendLine($"- Command: `{o.Command}`");
        sb.AppendLine($"- Wall time: {TimeSpan.FromSeconds(wall):hh\\:mm\\:ss}");
        sb.AppendLine($"- Machine: {cpu.CpuModel}, {cpu.LogicalCpus} logical CPU(s), oneDNN {cpu.OneDnnVersion} ISA {cpu.Isa}, bf16 {(cpu.Bf16 ? "yes" : "no")}; {precisionNote}").AppendLine();
        sb.AppendLine("| epoch | InfoNCE loss | own key ranked first | seconds | images/s |").AppendLine("|---|---|---|---|---|");
        foreach (var e in epochs)
            sb.AppendLine($"| {e.Epoch} | {e.Loss.ToString("0.000", inv)} | {e.Accuracy.ToString("0.000", inv)} | {e.Seconds.ToString("0", inv)} | {e.ImagesPerSecond.ToString("0.0", inv)} |");
        var path = Path.Combine(o.Output, "MODEL_CARD.md");
        File.WriteAllText(path, sb.ToString());
        return path;
    }
}

/// <summary>Disposes a list of resources at the end of a using scope.</summary>
file sealed class Disposables(IEnumerable<IDisposable> items) : IDisposable
{
    public void Dispose()
    {
        foreach (var d in items) d.Dispose();
    }
}
