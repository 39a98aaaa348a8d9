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
using Reid.Evaluation;
using Reid.Imaging;
using Reid.Onnx;
using Reid.Training.Backbones;
using Reid.Training.Config;
using Reid.Training.Data;
using Reid.Training.Export;
using Reid.Training.Import;
using Reid.Training.Losses;
using Reid.Training.Trainer;
using Tensor = Reid.Engine.Tensors.Tensor;

namespace Reid.Training.Adaptation;

/// <summary>What `reid adapt` is asked to do; the defaults are Cluster Contrast's (Dai et al. 2021) where they apply,
/// except epochs, eps and learning rate (see there).</summary>
public sealed record AdaptOptions
{
    /// <summary>The ONNX model to adapt (one this project exported, or a third-party OSNet/ResNet of <see cref="Backbone"/>).</summary>
    public required string Model { get; init; }
    /// <summary>Folders of unlabelled person crops (searched recursively); labels in names or folders are ignored.</summary>
    public required IReadOnlyList<string> Images { get; init; }
    public required string Output { get; init; }
    /// <summary>Backbone of a model without this project's <c>reid.architecture</c> metadata.</summary>
    public string Backbone { get; init; } = "osnet_x0_25";
    // Epochs, eps and learning rate: Cluster Contrast's Market settings (20 epochs, eps 0.6, Adam 3.5e-4) left the
    // shipped default no better on CUHK03 train/ (mAP 0.176 -> 0.178, labels used only to score) and worse on val/;
    // 10 epochs at eps 0.5 and 1e-4 raised CUHK03 train/ to 0.295, still rising; 30 epochs to 0.335 in 1 h 40 min on
    // 2 cores (docs/BENCHMARKS.md, "reid adapt").
    public int Epochs { get; init; } = 30;
    public int StepsPerEpoch { get; init; } = 100;
    public int IdentitiesPerBatch { get; init; } = 16;
    public int ImagesPerIdentity { get; init; } = 4;
    /// <summary>DBSCAN radius on the k-reciprocal Jaccard distance.</summary>
    public double Eps { get; init; } = 0.5;
    public int MinSamples { get; init; } = 4;
    public int K1 { get; init; } = 30;
    public int K2 { get; init; } = 6;
    public double Temperature { get; init; } = 0.05;
    /// <summary>Weight of the old centroid when the memory follows a batch's hardest member.</summary>
    public double MemoryMomentum { get; init; } = 0.1;
    public double LearningRate { get; init; } = 1e-4;
    public double WeightDecay { get; init; } = 5e-4;
    public int Seed { get; init; } = 1;
    public int Workers { get; init; } = 2;
    public int BatchSize { get; init; } = 64;
    public PrecisionSetting Precision { get; init; } = PrecisionSetting.Auto;
    /// <summary>Fewer crops than this is refused: clustering needs many views of many people.</summary>
    public int MinImages { get; init; } = 64;
    /// <summary>Labelled data to report figures on before, during (every <see cref="ScoreEvery"/> epochs) and after; never trained on.</summary>
    public ReidDataset? Score { get; init; }
    public int ScoreEvery { get; init; }
    /// <summary>The command line, for the model card.</summary>
    public string Command { get; init; } = "reid adapt";
}

public sealed record AdaptProgress(string Phase, int Epoch, int Epochs, int Step, int Steps, double Loss, int Clusters, int Outliers);

/// <summary>One epoch: what clustering found and what training did with it.</summary>
public sealed record AdaptEpoch(int Epoch, int Clusters, int Clustered, int Outliers, double Loss, double Seconds, double? Rank1, double? MeanAP);

/// <summary>Rank-1 and mAP on the labelled data given for scoring.</summary>
public sealed record AdaptScore(double Rank1, double MeanAP);

public sealed record AdaptResult(
    bool Completed, string OutputDir, string? ModelPath, string? CardPath, IReadOnlyList<AdaptEpoch> Epochs,
    AdaptScore? Before, AdaptScore? After, double WallSeconds, int Images, int SkippedImages);

/// <summary>
/// Unsupervised domain adaptation by clustering (Cluster Contrast, Dai et al. 2021): every epoch the model embeds all
/// the user's unlabelled crops, the k-reciprocal Jaccard distance (Zhong et al. 2017) is clustered with DBSCAN into
/// pseudo-identities (outliers left out), a memory holds one centroid per cluster, and the model is trained on P x K
/// batches of clustered crops with InfoNCE against the memory. Checkpoints after every epoch; a resumed run
/// re-clusters with the restored weights and continues with the next epoch.
/// </summary>
public sealed class AdaptationRun(AdaptOptions options)
{
    public const string CheckpointFile = "adapt.reidckpt";
    private readonly AdaptOptions _o = Validate(options);

    public string CheckpointPath => Path.Combine(_o.Output, CheckpointFile);

    public static AdaptOptions Validate(AdaptOptions o)
    {
        var p = new List<string>();
        if (!File.Exists(o.Model)) p.Add($"model '{o.Model}' not found");
        if (o.Images.Count == 0) p.Add("give at least one folder of person crops");
        foreach (var dir in o.Images) if (!Directory.Exists(dir)) p.Add($"image folder '{dir}' not found");
        void Range(string name, double v, double lo, double hi) { if (v < lo || v > hi) p.Add($"{name} = {v} is out of range; allowed [{lo}, {hi}]"); }
        Range("epochs", o.Epochs, 1, 1000);
        Range("steps per epoch", o.StepsPerEpoch, 1, 100_000);
        Range("identities per batch", o.IdentitiesPerBatch, 2, 1024);
        Range("images per identity", o.ImagesPerIdentity, 1, 256);
        Range("eps", o.Eps, 1e-3, 1);
        Range("min samples", o.MinSamples, 1, 1000);
        Range("k1", o.K1, 1, 1000);
        Range("k2", o.K2, 1, 1000);
        Range("temperature", o.Temperature, 1e-3, 10);
        Range("memory momentum", o.MemoryMomentum, 0, 0.999);
        Range("learning rate", o.LearningRate, 1e-8, 1);
        if (p.Count > 0) throw new ReidException("reid adapt: " + string.Join("; ", p));
        return o;
    }

    public AdaptResult Run(bool resume, IProgress<AdaptProgress>? progress = null, CancellationToken cancel = default)
    {
        var o = _o;
        Directory.CreateDirectory(o.Output);
        if (!resume && File.Exists(CheckpointPath))
            throw new ReidException($"{o.Output} already holds an adaptation ({CheckpointFile}); add --resume to continue it or choose another --out");
        var (precisionSetting, precisionNote) = CpuCapabilities.Current.Resolve(o.Precision);
        var clock = Stopwatch.StartNew();

        progress?.Report(new AdaptProgress("reading images", 0, o.Epochs, 0, 0, 0, 0, 0));
        var paths = o.Images.SelectMany(d => ImageFiles.List(d, recursive: true)).Distinct(StringComparer.Ordinal).ToList();
        if (paths.Count < o.MinImages)
            throw new ReidException($"found {paths.Count} image(s) in {string.Join(", ", o.Images)}; adaptation needs at least {o.MinImages} person crops " +
                "(ideally thousands, of many people, from the cameras to adapt to): add folders, or crop people from your videos with `reid extract`");

        var (model, height, width, initNote) = LoadModel(o.Model, o.Backbone, paths, o.Seed);
        var architecture = model.Config.Architecture;
        var trainables = ModelParameters.Of(model);
        var groups = ParameterGroups.Build(trainables, o.LearningRate, o.LearningRate, o.WeightDecay, [ReidModel.HeadPrefix]);
        // the paper's step schedule: x0.1 after half the epochs
        var schedule = new WarmupMultiStepSchedule(0, [(long)(o.Epochs / 2) * o.StepsPerEpoch], 0.1, 1);
        var optimizer = new Adam(groups, schedule: o.Epochs >= 2 ? schedule : new ConstantSchedule());
        var accumulator = new GradientAccumulator(optimizer, 1);
        var rng = new Rng(Seeds.Of(o.Seed, Seeds.Model));

        var epochs = new List<AdaptEpoch>();
        AdaptScore? before = null;
        var startEpoch = 0;
        var wallBefore = 0.0;
        if (resume && File.Exists(CheckpointPath))
        {
            var info = Checkpoint.Load(CheckpointPath, architecture, model, optimizer, rng);
            startEpoch = info.Epoch;
            wallBefore = info.Extra["wall_s"]?.GetValue<double>() ?? 0;
            epochs.AddRange(info.Extra["epochs"].Deserialize<List<AdaptEpoch>>() ?? []);
            before = info.Extra["before"]?.Deserialize<AdaptScore>();
        }

        using var precision = Precision.Use(precisionSetting);
        if (o.Score is not null && before is null)
        {
            progress?.Report(new AdaptProgress("scoring before", 0, o.Epochs, 0, 0, 0, 0, 0));
            before = Score(model, o.Score, height, width, o.BatchSize);
        }
        var augmenter = new Augmenter(new AugmentationConfig(), height, width, Mean, Std);
        var skipped = 0;
        var interrupted = false;
        for (var epoch = startEpoch; epoch < o.Epochs && !interrupted; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            progress?.Report(new AdaptProgress("embedding", epoch + 1, o.Epochs, 0, paths.Count, 0, 0, 0));
            var (features, usable, bad) = EmbedAll(model, paths, height, width, o.BatchSize);
            skipped = bad;
            progress?.Report(new AdaptProgress("clustering", epoch + 1, o.Epochs, 0, 0, 0, 0, 0));
            var (labels, clusters) = Cluster(features, o);
            var clustered = labels.Count(l => l >= 0);
            var outliers = labels.Length - clustered;
            if (clusters < 2)
                throw new ReidException($"epoch {epoch + 1}: clustering {labels.Length} crops found {clusters} identit{(clusters == 1 ? "y" : "ies")} " +
                    $"({outliers} outliers) at eps {o.Eps.ToString(CultureInfo.InvariantCulture)}: " +
                    (clusters == 1 && outliers < labels.Length / 2
                        ? "everything merged into one; lower --eps, or give crops of more different people"
                        : "the crops do not form groups; raise --eps (up to 1), or give more crops of each person (several per person from different frames)"));

            var memberIdx = Enumerable.Range(0, labels.Length).Where(i => labels[i] >= 0).ToArray();
            var memory = new ClusterMemory(memberIdx.Select(i => features[i]).ToArray(), memberIdx.Select(i => labels[i]).ToArray(), clusters, o.MemoryMomentum);
            var sampler = new PkSampler(memberIdx.Select(i => labels[i]).ToList(), Math.Min(o.IdentitiesPerBatch, clusters), o.ImagesPerIdentity,
                Seeds.Int(o.Seed, Seeds.Sampler, epoch), o.StepsPerEpoch);
            var memberPaths = memberIdx.Select(i => usable[i]).ToList();
            var memberLabels = memberIdx.Select(i => labels[i]).ToList();
            model.Train();
            using var loader = new TrainLoader(memberPaths, memberLabels, sampler.Epoch(0), epoch, 0, augmenter, o.Seed, o.Workers, 4);
            double lossSum = 0;
            var steps = 0;
            while (loader.Next() is { } batch)
            {
                using var scope = new TensorScope();
                var x = Tensor.FromArray(batch.Images, batch.Count, 3, batch.Height, batch.Width);
                var embedding = model.Forward(x);
                var loss = LossOps.ClusterContrast(embedding, memory.Centroids, memory.Clusters, batch.Labels, o.Temperature);
                var value = loss.Item();
                if (!double.IsFinite(value))
                    throw new ReidException($"adaptation diverged: the loss is {value} at epoch {epoch + 1}, step {steps + 1} (lower --lr)");
                var values = embedding.ToArray();
                loss.Backward();
                accumulator.MicroBatchDone();
                memory.Update(values, batch.Labels);
                lossSum += value;
                steps++;
                progress?.Report(new AdaptProgress("training", epoch + 1, o.Epochs, steps, sampler.BatchesPerEpoch, lossSum / steps, clusters, outliers));
                if (cancel.IsCancellationRequested) { interrupted = true; break; }
            }
            if (interrupted) break; // the epoch is redone on resume: its clustering depends only on the weights it started from
            double? r1 = null, ap = null;
            var last = epoch + 1 == o.Epochs;
            if (o.Score is not null && (last || (o.ScoreEvery > 0 && (epoch + 1) % o.ScoreEvery == 0)))
            {
                progress?.Report(new AdaptProgress("scoring", epoch + 1, o.Epochs, steps, steps, lossSum / steps, clusters, outliers));
                var s = Score(model, o.Score, height, width, o.BatchSize);
                (r1, ap) = (s.Rank1, s.MeanAP);
            }
            epochs.Add(new AdaptEpoch(epoch + 1, clusters, clustered, outliers, lossSum / Math.Max(steps, 1), epochClock.Elapsed.TotalSeconds, r1, ap));
            var extra = new JsonObject
            {
                ["wall_s"] = wallBefore + clock.Elapsed.TotalSeconds,
                ["epochs"] = JsonSerializer.SerializeToNode(epochs),
            };
            if (before is not null) extra["before"] = JsonSerializer.SerializeToNode(before);
            Checkpoint.Save(CheckpointPath, architecture, model, optimizer, epoch + 1, rng, extra);
            if (cancel.IsCancellationRequested && epoch + 1 < o.Epochs) interrupted = true;
        }
        var wall = wallBefore + clock.Elapsed.TotalSeconds;
        if (interrupted)
            return new AdaptResult(false, o.Output, null, null, epochs, before, null, wall, paths.Count, skipped);

        progress?.Report(new AdaptProgress("exporting", o.Epochs, o.Epochs, 0, 0, 0, 0, 0));
        AdaptScore? after = null;
        if (o.Score is not null) after = Score(model, o.Score, height, width, o.BatchSize);
        var modelPath = Path.Combine(o.Output, "model.onnx");
        model.Eval();
        OnnxExporter.Save(model, modelPath, new ExportOptions
        {
            Height = height, Width = width,
            Metadata = new Dictionary<string, string>
            {
                ["reid.recipe"] = "reid adapt", ["reid.architecture"] = architecture, ["reid.init"] = initNote,
                ["reid.trained_on"] = $"{paths.Count} unlabelled crops ({string.Join(", ", o.Images.Select(Path.GetFileName))}), cluster contrast",
            },
        });
        var card = WriteCard(o, modelPath, initNote, epochs, before, after, wall, paths.Count, skipped, precisionNote, model);
        return new AdaptResult(true, o.Output, modelPath, card, epochs, before, after, wall, paths.Count, skipped);
    }

    private static readonly float[] Mean = [Imaging.Preprocessing.ImageNetMean.Item1, Imaging.Preprocessing.ImageNetMean.Item2, Imaging.Preprocessing.ImageNetMean.Item3];
    private static readonly float[] Std = [Imaging.Preprocessing.ImageNetStd.Item1, Imaging.Preprocessing.ImageNetStd.Item2, Imaging.Preprocessing.ImageNetStd.Item3];

    /// <summary>
    /// Builds the model an ONNX file describes (this project's exports carry <c>reid.architecture</c>; anything else is
    /// taken as a bare backbone of <paramref name="backbone"/> whose output is the embedding) and imports its weights.
    /// </summary>
    private static (ReidModel Model, int Height, int Width, string Note) LoadModel(string path, string backbone, IReadOnlyList<string> images, int seed)
    {
        var proto = OnnxModelFile.Load(path);
        var arch = proto.MetadataProps.FirstOrDefault(p => p.Key == "reid.architecture")?.Value;
        var config = arch is not null
            ? ModelConfig.Parse(arch) with { Classes = 0 }
            : new ModelConfig { Backbone = backbone, BnNeck = false };
        var input = proto.Graph.Input.FirstOrDefault(i => proto.Graph.Initializer.All(t => t.Name != i.Name))
            ?? throw new ReidException($"{path}: the ONNX graph has no input");
        var dims = input.Type?.TensorType?.Shape?.Dim;
        var (height, width) = dims is { Count: 4 } && dims[2].DimValue > 0 && dims[3].DimValue > 0 ? ((int)dims[2].DimValue, (int)dims[3].DimValue) : (256, 128);
        ReidModel model;
        model = new ReidModel(config);
        var report = arch is not null ? OnnxWeightImporter.Import(proto, model, path) : OnnxWeightImporter.Import(proto, model.Backbone, path);
        var note = $"{Path.GetFileName(path)} ({report.TensorsCopied} tensors)";
        if (report.FoldedBatchNorms > 0)
        {
            // turn the BatchNorms the export folded away back into real ones, on the user's own crops
            var order = Enumerable.Range(0, images.Count).ToArray();
            new Random(Seeds.Int(seed, Seeds.Model, 1)).Shuffle(order);
            var chosen = order.Take(512).Select(i => images[i]).ToList();
            FoldedBatchNormCalibrator.Calibrate(model, report.FoldedLayers, EngineEmbedding.Batches(chosen, height, width, 64));
            note += $", {report.FoldedBatchNorms} folded BatchNorms calibrated on {chosen.Count} of the crops";
        }
        return (model, height, width, note);
    }

    /// <summary>Unit embeddings of every readable crop (unreadable ones are left out and counted).</summary>
    private static (float[][] Features, List<string> Paths, int Bad) EmbedAll(ReidModel model, IReadOnlyList<string> paths, int height, int width, int batch)
    {
        var embedded = EngineEmbedding.Embed(model, paths.Select(p => new ImageRecord(p, -1, null)).ToList(), height, width, batch, skipBad: true);
        return (embedded.Embeddings.Select(Normalised).ToArray(), embedded.Records.Select(r => r.Path).ToList(), embedded.Bad.Count);
    }

    private static float[] Normalised(float[] x)
    {
        var norm = MathF.Max(System.Numerics.Tensors.TensorPrimitives.Norm(x), 1e-12f);
        return x.Select(v => v / norm).ToArray();
    }

    /// <summary>Pseudo-identities: DBSCAN over the k-reciprocal Jaccard distance; −1 marks outliers.</summary>
    public static (int[] Labels, int Clusters) Cluster(float[][] unitFeatures, AdaptOptions o)
    {
        var cosine = DistanceMatrix.Compute(unitFeatures, unitFeatures, DistanceKind.Cosine);
        var jaccard = ReRanker.Jaccard(cosine, Math.Min(o.K1, unitFeatures.Length - 1), Math.Min(o.K2, unitFeatures.Length - 1));
        var labels = Dbscan.Cluster(jaccard.Values, unitFeatures.Length, o.Eps, o.MinSamples);
        return (labels, labels.Length == 0 ? 0 : labels.Max() + 1);
    }

    private static AdaptScore Score(ReidModel model, ReidDataset data, int height, int width, int batch)
    {
        float[][] Embed(IReadOnlyList<ImageRecord> records) => EngineEmbedding.Embed(model, records, height, width, batch).Embeddings;
        var distances = DistanceMatrix.Compute(Embed(data.Query), Embed(data.Gallery), DistanceKind.Cosine);
        var r = Evaluator.Evaluate(distances, data.Query, data.Gallery, new EvaluationOptions(Verification: false));
        return new AdaptScore(r.Rank1, r.MeanAP);
    }

    private static string WriteCard(AdaptOptions o, string modelPath, string initNote, IReadOnlyList<AdaptEpoch> epochs,
        AdaptScore? before, AdaptScore? after, double wall, int images, int skipped, string precisionNote, ReidModel model)
    {
        var inv = CultureInfo.InvariantCulture;
        var cpu = CpuCapabilities.Current;
        var sb = new StringBuilder();
        sb.AppendLine($"# Model card: {Path.GetFileName(modelPath)} (adapted without labels)").AppendLine();
        sb.AppendLine($"- Adapted from: {initNote}");
        sb.AppendLine($"- Method: Cluster Contrast (Dai et al. 2021): each epoch DBSCAN (eps {o.Eps.ToString(inv)}, min samples {o.MinSamples}) over the k-reciprocal Jaccard distance (k1 {o.K1}, k2 {o.K2}) gives pseudo-identities; InfoNCE against a memory of cluster centroids (temperature {o.Temperature.ToString(inv)}, hardest-member update, momentum {o.MemoryMomentum.ToString(inv)}); Adam {o.LearningRate.ToString(inv)}, x0.1 after half the epochs; {o.Epochs} epochs x {o.StepsPerEpoch} steps of {o.IdentitiesPerBatch} x {o.ImagesPerIdentity} crops");
        sb.AppendLine($"- Data: {images} unlabelled crops from {string.Join(", ", o.Images)}{(skipped > 0 ? $" ({skipped} unreadable, left out)" : "")}");
        sb.AppendLine($"- Command: `{o.Command}`");
        sb.AppendLine($"- Wall time: {TimeSpan.FromSeconds(wall):hh\\:mm\\:ss}");
        sb.AppendLine($"- Machine: {cpu.CpuModel}, {cpu.LogicalCpus} logical CPU(s), oneDNN {cpu.OneDnnVersion} ISA {cpu.Isa}, bf16 {(cpu.Bf16 ? "yes" : "no")}; {precisionNote}");
        sb.AppendLine($"- Output: `embeddings` batch x {model.EmbeddingDim}, input {o.Images.Count} folder(s) resized to the model's input; compare with cosine distance").AppendLine();
        if (o.Score is not null)
        {
            sb.AppendLine($"## Figures on {o.Score.Name} (labelled, never used for adaptation)").AppendLine();
            sb.AppendLine("| model | Rank-1 | mAP |").AppendLine("|---|---|---|");
            if (before is not null) sb.AppendLine($"| before ({Path.GetFileName(o.Model)}) | {before.Rank1.ToString("0.0000", inv)} | {before.MeanAP.ToString("0.0000", inv)} |");
            if (after is not null) sb.AppendLine($"| after adaptation | {after.Rank1.ToString("0.0000", inv)} | {after.MeanAP.ToString("0.0000", inv)} |");
            sb.AppendLine();
            if (WorseWarning(before, after, o.Score.Name) is { } worse) sb.AppendLine($"**{worse}**").AppendLine();
        }
        sb.AppendLine("## Epochs").AppendLine();
        sb.AppendLine("| epoch | clusters | clustered crops | outliers | loss | seconds | Rank-1 | mAP |").AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var e in epochs)
            sb.AppendLine($"| {e.Epoch} | {e.Clusters} | {e.Clustered} | {e.Outliers} | {e.Loss.ToString("0.000", inv)} | {e.Seconds.ToString("0", inv)} | {e.Rank1?.ToString("0.000", inv) ?? ""} | {e.MeanAP?.ToString("0.000", inv) ?? ""} |");
        var path = Path.Combine(o.Output, "MODEL_CARD.md");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    /// <summary>What to tell the user when adaptation lowered the labelled mAP (pseudo-identities from a model that
    /// is weak on these cameras can be mostly wrong); null when it did not, or nothing was scored.</summary>
    public static string? WorseWarning(AdaptScore? before, AdaptScore? after, string scoredOn) =>
        before is not null && after is not null && after.MeanAP < before.MeanAP
            ? string.Create(CultureInfo.InvariantCulture,
                $"adaptation made the model worse on {scoredOn} (mAP {before.MeanAP:0.000} -> {after.MeanAP:0.000}): keep the original model, or try a smaller --lr, a smaller --eps or fewer --epochs")
            : null;
}
