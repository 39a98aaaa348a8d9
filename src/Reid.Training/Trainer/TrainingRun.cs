using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Core.Config;
using Reid.Evaluation;
using Reid.Imaging;
using Reid.Training.Autograd;
using Reid.Training.Backbones;
using Reid.Training.Checkpoints;
using Reid.Training.Config;
using Reid.Training.Data;
using Reid.Training.Export;
using Reid.Training.Import;
using Reid.Training.Layers;
using Reid.Training.Losses;
using Reid.Training.Optim;
using Reid.Training.Reports;
using Reid.Training.Tensors;
using BackbonePooling = Reid.Training.Backbones.Pooling;
using ConfigPooling = Reid.Training.Config.Pooling;
using EnginePrecision = Reid.Training.Tensors.Precision;

namespace Reid.Training.Trainer;

/// <summary>A snapshot for the progress display.</summary>
public sealed record TrainProgress(
    string Phase, int Epoch, int Epochs, int Batch, int Batches, IReadOnlyDictionary<string, double> Losses, double Accuracy,
    double ImagesPerSecond, TimeSpan Eta, double? LastRank1, double? LastMeanAP);

/// <summary>How a run ended and where its outputs are.</summary>
public sealed record TrainResult(
    bool Completed, int EpochsDone, string OutputDir, string CheckpointPath, string? ModelPath, string? ModelCardPath,
    string CurvesPath, double WallSeconds, double DataWaitSeconds, double? Rank1, double? MeanAP);

/// <summary>Things the command line adds to a recipe: the command (for the model card) and test hooks.</summary>
public sealed record TrainerOptions
{
    public string Command { get; init; } = "reid train";
    public string RecipePath { get; init; } = "";
    public string RecipeText { get; init; } = "";
    /// <summary>Skip the ONNX export and model card (tests that only look at the weights).</summary>
    public bool Export { get; init; } = true;
}

/// <summary>
/// The training loop. Builds the model, optimiser and schedule from the recipe, trains on P x K batches
/// with the configured weighted losses, logs every epoch, checkpoints every epoch and at least every
/// <c>checkpoint.every_minutes</c> (only at optimiser-step boundaries), evaluates on the validation fold,
/// and at the end exports ONNX with a model card. Everything random derives from the run seed and the
/// position in the run, and the checkpoint holds every piece of state, so a run resumed from any
/// checkpoint ends bit for bit where an uninterrupted one does.
/// </summary>
public sealed class TrainingRun
{
    // The normalisation every model in this project is trained with (and written into its ONNX metadata).
    private static readonly float[] ImageNetMean = [Reid.Imaging.Preprocessing.ImageNetMean.Item1, Reid.Imaging.Preprocessing.ImageNetMean.Item2, Reid.Imaging.Preprocessing.ImageNetMean.Item3];
    private static readonly float[] ImageNetStd = [Reid.Imaging.Preprocessing.ImageNetStd.Item1, Reid.Imaging.Preprocessing.ImageNetStd.Item2, Reid.Imaging.Preprocessing.ImageNetStd.Item3];

    public const string CheckpointFile = "checkpoint.reidckpt";
    private static readonly object SharedRngLock = new();
    private readonly ExperimentConfig _cfg;
    private readonly TrainerOptions _options;

    private readonly ComputePrecision _precision;

    /// <summary>Resolves the recipe's precision on this CPU first, so a bf16 recipe on an AVX2 machine fails before any work.</summary>
    public TrainingRun(ExperimentConfig config, TrainerOptions? options = null)
    {
        _cfg = config;
        _options = options ?? new TrainerOptions();
        (_precision, PrecisionNote) = CpuCapabilities.Current.Resolve(config.Training.Precision);
    }

    /// <summary>Which arithmetic this run uses and why, e.g. "precision auto -> f32: this CPU's ISA (avx2) has no native bf16 kernels in oneDNN".</summary>
    public string PrecisionNote { get; }

    public string OutputDir => _cfg.Output;
    public string CheckpointPath => Path.Combine(OutputDir, CheckpointFile);

    public TrainResult Run(bool resume, IProgress<TrainProgress>? progress = null, CancellationToken cancel = default)
    {
        var cfg = _cfg;
        var t = cfg.Training;
        Directory.CreateDirectory(OutputDir);
        if (!resume && File.Exists(CheckpointPath))
            throw new ReidException($"{OutputDir} already holds a run ({CheckpointFile}); add --resume to continue it or choose another --out");

        progress?.Report(new TrainProgress("loading data", 0, t.Epochs, 0, 0, new Dictionary<string, double>(), 0, 0, TimeSpan.Zero, null, null));
        var data = TrainingData.Load(cfg.Data, cfg.Evaluation.On);
        var sampler = new PkSampler(data.Labels, t.IdentitiesPerBatch, t.ImagesPerIdentity, cfg.Seed, t.BatchesPerEpoch);
        var batches = sampler.BatchesPerEpoch;
        if (batches % t.Accumulation != 0)
            throw new ReidException($"training.accumulation = {t.Accumulation} must divide the {batches} batches of an epoch (set training.batches_per_epoch)");

        // The model, the loss state and the dropout stream all draw from one seeded generator, saved in checkpoints.
        // Layers initialise from Rng.Shared; point it at the run's generator only while building, then
        // dropout draws from the run's generator explicitly (never from a process-wide one).
        var (model, training, rng) = BuildModels(cfg, data.Classes);
        var initNote = cfg.Architecture.RandomInit ? null
            : ImportInit(model, data, calibrate: !(resume && File.Exists(CheckpointPath)), progress);
        var teacher = cfg.Losses.Distillation.Weight > 0 ? BuildTeacher(cfg) : null;

        var trainables = ModelParameters.Of(training);
        var groups = ParameterGroups.Build(trainables, t.LearningRate * t.BackboneLrFactor, t.LearningRate, t.WeightDecay, TrainingModel.HeadPrefixes);
        var stepsPerEpoch = batches / t.Accumulation;
        var optimizer = BuildOptimizer(t, groups, stepsPerEpoch);
        var accumulator = new GradientAccumulator(optimizer, t.Accumulation, t.ClipGradNorm > 0 ? t.ClipGradNorm : null);
        var architecture = Architecture(cfg, model);

        var state = new RunState { Seed = cfg.Seed };
        if (resume && File.Exists(CheckpointPath))
        {
            var info = Checkpoint.Load(CheckpointPath, architecture, training, optimizer, rng);
            state = RunState.From(info.Extra, CheckpointPath);
            if (state.Seed != cfg.Seed)
                throw new ReidException($"{CheckpointPath}: was trained with seed {state.Seed}, the recipe says {cfg.Seed}");
        }

        var log = new MetricsLog(OutputDir);
        var augmenter = new Augmenter(cfg.Augmentation, cfg.Data.Height, cfg.Data.Width, ImageNetMean, ImageNetStd);
        var runClock = Stopwatch.StartNew();
        var lastCheckpoint = Stopwatch.StartNew();
        var wallAtStart = state.WallSeconds;
        var imagesThisProcess = 0L;
        var interrupted = false;
        EvaluationResult? lastEval = null;

        var epochClock = new Stopwatch();
        void Save()
        {
            state.EpochSeconds += epochClock.Elapsed.TotalSeconds;
            epochClock.Restart();
            state.WallSeconds = wallAtStart + runClock.Elapsed.TotalSeconds;
            Checkpoint.Save(CheckpointPath, architecture, training, optimizer, state.Epoch, rng, state.ToJson());
            lastCheckpoint.Restart();
        }

        using var precision = EnginePrecision.Use(_precision);
        while (state.Epoch < t.Epochs && !interrupted)
        {
            var epoch = state.Epoch;
            epochClock.Restart();
            SetBackboneFrozen(model, epoch < t.FreezeBackboneEpochs);
            training.Train();
            var epochBatches = sampler.Epoch(epoch);
            using var loader = new TrainLoader(data.Train.Select(r => r.Path).ToList(), data.Labels, epochBatches, epoch, state.Batch,
                augmenter, cfg.Seed, cfg.Data.Workers, cfg.Data.QueueBatches);
            var waitBefore = TimeSpan.Zero;
            while (loader.Next() is { } batch)
            {
                var parts = Step(training, teacher, batch, cfg, rng, out var correct);
                accumulator.MicroBatchDone();
                state.Add(parts, correct, batch.Count);
                state.Batch = batch.Index + 1;
                imagesThisProcess += batch.Count;
                state.DataWaitSeconds += (loader.WaitTime - waitBefore).TotalSeconds;
                waitBefore = loader.WaitTime;

                var ips = imagesThisProcess / Math.Max(runClock.Elapsed.TotalSeconds, 1e-9);
                var remaining = ((long)(t.Epochs - epoch) * batches - state.Batch) * (long)sampler.BatchSize;
                progress?.Report(new TrainProgress("training", epoch + 1, t.Epochs, state.Batch, batches, state.MeanParts(),
                    state.Accuracy, ips, TimeSpan.FromSeconds(remaining / Math.Max(ips, 1e-9)), lastEval?.Rank1, lastEval?.MeanAP));

                var atStepBoundary = state.Batch % t.Accumulation == 0;
                if (atStepBoundary && state.Batch < batches)
                {
                    if (cancel.IsCancellationRequested) { interrupted = true; break; }
                    if (lastCheckpoint.Elapsed.TotalMinutes >= cfg.Checkpoint.EveryMinutes) Save();
                }
            }
            if (interrupted) break;

            // epoch done: evaluate when due, log, checkpoint (images/s counts training only, not evaluation)
            var epochSeconds = state.EpochSeconds + epochClock.Elapsed.TotalSeconds;
            double? r1 = null, ap = null, inp = null;
            var last = epoch + 1 == t.Epochs;
            var due = cfg.Evaluation.Every > 0 && (epoch + 1) % cfg.Evaluation.Every == 0;
            if ((due || last) && data.EvaluationQuery.Count > 0)
            {
                progress?.Report(new TrainProgress("evaluating", epoch + 1, t.Epochs, batches, batches, state.MeanParts(), state.Accuracy, 0, TimeSpan.Zero, lastEval?.Rank1, lastEval?.MeanAP));
                lastEval = Score(model, data, cfg);
                (r1, ap, inp) = (lastEval.Rank1, lastEval.MeanAP, lastEval.MeanInp);
            }
            var lr = optimizer.LearningRate(optimizer.Groups.First(g => g.Name.StartsWith("head", StringComparison.Ordinal)));
            log.Append(new EpochMetrics(epoch + 1, lr, state.MeanLoss, state.MeanParts(), state.Accuracy,
                state.Images / Math.Max(epochSeconds, 1e-9), epochSeconds, state.DataWaitSeconds, r1, ap, inp));
            state.NextEpoch();
            epochClock.Restart();
            Save();
            if (cancel.IsCancellationRequested && state.Epoch < t.Epochs) interrupted = true;
        }
        if (interrupted) Save();

        var wall = wallAtStart + runClock.Elapsed.TotalSeconds;
        var metrics = log.Read();
        var curves = CurvesPage.Write(Path.Combine(OutputDir, "curves.html"), cfg.Name, metrics, data.EvaluationName);
        if (interrupted || state.Epoch < t.Epochs)
            return new TrainResult(false, state.Epoch, OutputDir, CheckpointPath, null, null, curves, wall, state.TotalDataWaitSeconds, lastEval?.Rank1, lastEval?.MeanAP);

        string? modelPath = null, cardPath = null;
        if (_options.Export)
        {
            progress?.Report(new TrainProgress("exporting", t.Epochs, t.Epochs, batches, batches, new Dictionary<string, double>(), 0, 0, TimeSpan.Zero, lastEval?.Rank1, lastEval?.MeanAP));
            modelPath = Path.Combine(OutputDir, "model.onnx");
            var wiseFt = ApplyWiseFt(model, data, cfg.Export.WiseFt, cfg.Export.BnRefreshImages, progress);
            Export(model, modelPath, architecture, data, initNote, wiseFt);
            cardPath = ModelCard.Write(Path.Combine(OutputDir, "MODEL_CARD.md"), new ModelCardFacts(
                cfg, _options.Command, _options.RecipePath, _options.RecipeText, data.Description, initNote, architecture,
                model.ParameterCount(), wall, state.Resumes, metrics, Path.GetFileName(modelPath), model.EmbeddingDim,
                CpuCapabilities.Current, PrecisionNote, DistillationNote(), wiseFt));
        }
        return new TrainResult(true, state.Epoch, OutputDir, CheckpointPath, modelPath, cardPath, curves, wall, state.TotalDataWaitSeconds, lastEval?.Rank1, lastEval?.MeanAP);
    }

    /// <summary>
    /// Exports a finished run again with WiSE-FT weight <paramref name="alpha"/> (and BatchNorm refresh), without
    /// training: how a recipe's <c>export.wise_ft</c> is chosen on validation data from one run.
    /// </summary>
    public string ExportWiseFt(double alpha, int bnRefreshImages, string modelPath, IProgress<TrainProgress>? progress = null)
    {
        if (alpha is < 0 or > 1) throw new ReidException($"WiSE-FT alpha {alpha} is out of range; allowed [0, 1]");
        if (_cfg.Architecture.RandomInit) throw new ReidException($"{_cfg.Name}: WiSE-FT interpolates towards architecture.init, which is random");
        if (!File.Exists(CheckpointPath)) throw new ReidException($"{OutputDir} holds no run ({CheckpointFile}); train it first");
        var data = TrainingData.Load(_cfg.Data, _cfg.Evaluation.On);
        var (model, training, _) = BuildModels(_cfg, data.Classes);
        var initNote = ImportInit(model, data, calibrate: false, progress);
        var info = Checkpoint.Load(CheckpointPath, Architecture(_cfg, model), training);
        if (info.Epoch < _cfg.Training.Epochs)
            throw new ReidException($"{CheckpointPath}: the run stopped after epoch {info.Epoch} of {_cfg.Training.Epochs}; finish it with reid train --resume first");
        using var precision = EnginePrecision.Use(_precision);
        model.Eval();
        var note = ApplyWiseFt(model, data, alpha, bnRefreshImages, progress);
        Export(model, modelPath, Architecture(_cfg, model), data, initNote, note);
        return note ?? "wise_ft 1 (the trained weights)";
    }

    private static (ReidModel Model, TrainingModel Training, Rng Rng) BuildModels(ExperimentConfig cfg, int classes)
    {
        var rng = new Rng(Seeds.Of(cfg.Seed, Seeds.Model));
        lock (SharedRngLock)
        {
            var previous = Rng.Shared;
            Rng.Shared = rng;
            try
            {
                var model = BuildModel(cfg, classes);
                if (cfg.Architecture.WeightInit == WeightInit.Kaiming) Init.KaimingFanOut(model, rng);
                var training = new TrainingModel(model, classes, cfg.Losses.Arcface.Weight > 0, cfg.Losses.Center.Weight > 0, rng);
                return (model, training, rng);
            }
            finally { Rng.Shared = previous; }
        }
    }

    /// <summary>Copies architecture.init into the backbone and (unless resuming) calibrates the BatchNorms it folded.</summary>
    private string ImportInit(ReidModel model, TrainingData data, bool calibrate, IProgress<TrainProgress>? progress)
    {
        var cfg = _cfg;
        var report = OnnxWeightImporter.Import(cfg.Architecture.Init, model.Backbone);
        var initNote = $"{Path.GetFileName(cfg.Architecture.Init)} ({report.TensorsCopied} tensors, {report.Layers} layers)";
        if (report.GeMKeptInitial > 0) initNote += $", GeM pooling new (the source averaged; exponent starts at {cfg.Architecture.GemP})";
        if (report.FoldedBatchNorms > 0 && cfg.Architecture.InitCalibrationImages > 0)
        {
            if (calibrate)
            {
                progress?.Report(new TrainProgress("calibrating imported BatchNorms", 0, cfg.Training.Epochs, 0, 0, new Dictionary<string, double>(), 0, 0, TimeSpan.Zero, null, null));
                FoldedBatchNormCalibrator.Calibrate(model.Backbone, report.FoldedLayers, CalibrationImages(data, cfg, cfg.Architecture.InitCalibrationImages));
            }
            initNote += $", {report.FoldedBatchNorms} folded BatchNorms calibrated on {cfg.Architecture.InitCalibrationImages} training images";
        }
        return initNote;
    }

    /// <summary>The frozen model a distillation loss compares with: the teacher's backbone and pooling, no neck.</summary>
    private static ReidModel BuildTeacher(ExperimentConfig cfg)
    {
        var kd = cfg.Losses.Distillation;
        var student = BuildModel(cfg, 0).Config;
        var teacher = new ReidModel(student with { EmbeddingDim = 0, BnNeck = false, Classes = 0, Parts = 0 });
        OnnxWeightImporter.Import(kd.TeacherIsInit ? cfg.Architecture.Init : kd.Teacher, teacher.Backbone);
        foreach (var p in teacher.Parameters()) p.RequiresGrad = false;
        teacher.Eval();
        return teacher;
    }

    /// <summary>
    /// WiSE-FT: blends the backbone towards its starting weights (re-derived from architecture.init exactly as the
    /// run began), then optionally refreshes BatchNorm statistics. Returns the note for the model's metadata, or null at α = 1.
    /// </summary>
    private string? ApplyWiseFt(ReidModel model, TrainingData data, double alpha, int bnRefreshImages, IProgress<TrainProgress>? progress)
    {
        if (alpha >= 1) return null;
        progress?.Report(new TrainProgress("WiSE-FT", _cfg.Training.Epochs, _cfg.Training.Epochs, 0, 0, new Dictionary<string, double>(), 0, 0, TimeSpan.Zero, null, null));
        var (start, _, _) = BuildModels(_cfg, data.Classes);
        ImportInit(start, data, calibrate: true, progress: null);
        var blended = WiseFt.Interpolate(model.Backbone, start.Backbone, alpha);
        var note = $"WiSE-FT alpha {alpha.ToString("0.###", CultureInfo.InvariantCulture)}: {blended} backbone tensors blended with the initial weights";
        // the starting model's embedding is its pooled feature: where fine-tuning put a BNNeck straight on it, the
        // start's counterpart is the identity
        if (!model.Head.Reduces && model.Head.NeckLayer is { } neck)
        {
            WiseFt.InterpolateTowardsIdentity(neck, alpha);
            note += ", the BNNeck blended with the identity";
        }
        if (bnRefreshImages > 0)
        {
            var layers = WiseFt.RefreshBatchNorms(model, CalibrationImages(data, _cfg, bnRefreshImages));
            note += $", running statistics of {layers} BatchNorms recomputed on {bnRefreshImages} training images";
        }
        model.Eval();
        return note;
    }

    private string? DistillationNote()
    {
        var kd = _cfg.Losses.Distillation;
        return kd.Weight > 0
            ? $"{ConfigBinder.Name(kd.Kind)} x {kd.Weight.ToString(CultureInfo.InvariantCulture)} from {Path.GetFileName(kd.TeacherIsInit ? _cfg.Architecture.Init : kd.Teacher)}"
            : null;
    }

    private void Export(ReidModel model, string modelPath, string architecture, TrainingData data, string? initNote, string? wiseFt)
    {
        model.Eval();
        var metadata = new Dictionary<string, string>
        {
            ["reid.recipe"] = _cfg.Name, ["reid.architecture"] = architecture,
            ["reid.trained_on"] = data.Description, ["reid.init"] = initNote ?? "random",
        };
        if (DistillationNote() is { } kd) metadata["reid.distillation"] = kd;
        if (wiseFt is not null) metadata["reid.wise_ft"] = wiseFt;
        OnnxExporter.Save(model, modelPath, new ExportOptions { Height = _cfg.Data.Height, Width = _cfg.Data.Width, Metadata = metadata });
    }

    /// <summary>One forward/backward of a batch; returns each loss part (unweighted) for the log.</summary>
    private static Dictionary<string, double> Step(TrainingModel training, ReidModel? teacher, TrainBatch batch, ExperimentConfig cfg, Rng rng, out int correct)
    {
        var l = cfg.Losses;
        var model = training.Model;
        var parts = new Dictionary<string, double>();
        correct = 0;
        using var scope = new TensorScope();
        var x = Tensor.FromArray(batch.Images, batch.Count, 3, batch.Height, batch.Width);
        var branches = model.Branches(x);
        var (feature, neck) = branches[0];
        Tensor? total = null;
        void Add(string name, Tensor loss, double weight)
        {
            parts[name] = loss.Item();
            var weighted = weight == 1 ? loss : Ops.Scale(loss, (float)weight);
            total = total is null ? weighted : Ops.Add(total, weighted);
        }
        // Dropout regularises the identity classifiers only (softmax and ArcFace see the same mask); the metric losses
        // and the exported embedding use the whole feature.
        var classifierInput = cfg.Architecture.Dropout > 0 && (l.CrossEntropy.Weight > 0 || l.Arcface.Weight > 0)
            ? Ops.Dropout(neck, (float)cfg.Architecture.Dropout, training: true, rng)
            : neck;
        if (l.CrossEntropy.Weight > 0)
        {
            Add("ce", LossOps.CrossEntropy(model.Head.Classify(classifierInput), batch.Labels, l.CrossEntropy.LabelSmoothing, out correct), l.CrossEntropy.Weight);
        }
        if (l.Triplet.Weight > 0)
        {
            Add("triplet", LossOps.Triplet(feature, batch.Labels, l.Triplet.Margin, l.Triplet.SoftMargin, out _), l.Triplet.Weight);
        }
        if (l.Arcface.Weight > 0)
        {
            Add("arcface", LossOps.ArcFace(classifierInput, training.ArcFaceWeight!, batch.Labels, l.Arcface.Margin, l.Arcface.Scale, out var arcCorrect), l.Arcface.Weight);
            if (l.CrossEntropy.Weight == 0) correct = arcCorrect;
        }
        if (branches.Count > 1)
        {
            // Each part learns identities from its stripe alone, with the global head's losses (own class weights);
            // their mean keeps the parts' share independent of how many there are.
            Tensor? partLoss = null;
            for (var i = 1; i < branches.Count; i++)
            {
                var (pf, pn) = branches[i];
                var part = model.Parts[i - 1];
                var terms = new List<Tensor>();
                if (l.CrossEntropy.Weight > 0)
                    terms.Add(Ops.Scale(LossOps.CrossEntropy(part.Classify(pn), batch.Labels, l.CrossEntropy.LabelSmoothing, out _), (float)l.CrossEntropy.Weight));
                if (l.Triplet.Weight > 0)
                    terms.Add(Ops.Scale(LossOps.Triplet(pf, batch.Labels, l.Triplet.Margin, l.Triplet.SoftMargin, out _), (float)l.Triplet.Weight));
                if (l.Arcface.Weight > 0)
                    terms.Add(Ops.Scale(LossOps.ArcFace(pn, training.PartArcFaceWeights[i - 1], batch.Labels, l.Arcface.Margin, l.Arcface.Scale, out _), (float)l.Arcface.Weight));
                foreach (var t in terms) partLoss = partLoss is null ? t : Ops.Add(partLoss, t);
            }
            if (partLoss is not null) Add("parts", Ops.Scale(partLoss, 1f / (branches.Count - 1)), cfg.Architecture.Parts.LossWeight);
        }
        if (teacher is not null)
        {
            Tensor target;
            using (Tape.NoGrad()) target = teacher.Forward(x);
            Add("distill", LossOps.Distillation(feature, target, l.Distillation.Kind), l.Distillation.Weight);
        }
        float[]? featureValues = null;
        if (l.Center.Weight > 0)
        {
            featureValues = feature.ToArray();
            Add("center", LossOps.Center(feature, training.Centers!, batch.Labels), l.Center.Weight);
        }
        var sum = total!.Item();
        if (!double.IsFinite(sum))
            throw new ReidException($"training diverged: the loss is {sum} at epoch {batch.Epoch + 1}, batch {batch.Index + 1} (lower training.learning_rate or set training.clip_grad_norm)");
        total!.Backward();
        if (featureValues is not null)
            CenterLoss.UpdateCenters(featureValues, batch.Count, featureValues.Length / batch.Count, training.Centers!.Data, batch.Labels, l.Center.CenterLr);
        parts["total"] = sum;
        return parts;
    }

    /// <summary>Rank-1/mAP on the run's evaluation query/gallery (the validation fold, or the split's own with
    /// evaluation.on: split) with eval's Evaluator (cosine distance, Market-1501 protocol).</summary>
    public static EvaluationResult Score(ReidModel model, TrainingData data, ExperimentConfig cfg)
    {
        float[][] Embed(IReadOnlyList<Reid.Data.ImageRecord> records) =>
            EngineEmbedding.Embed(model, records.Select(r => r.Path).ToList(), cfg.Data.Height, cfg.Data.Width, cfg.Evaluation.BatchSize);
        var distances = DistanceMatrix.Compute(Embed(data.EvaluationQuery), Embed(data.EvaluationGallery), DistanceKind.Cosine);
        return Evaluator.Evaluate(distances, data.EvaluationQuery, data.EvaluationGallery, new EvaluationOptions(Verification: false));
    }

    /// <summary>A seeded sample of un-augmented training images, in evaluation-size batches, for BN calibration.</summary>
    private static IEnumerable<Tensor> CalibrationImages(TrainingData data, ExperimentConfig cfg, int count)
    {
        var pre = Imaging.Preprocessing.ImageNet(cfg.Data.Height, cfg.Data.Width);
        var order = Enumerable.Range(0, data.Train.Count).ToArray();
        new Random(Seeds.Int(cfg.Seed, Seeds.Model, 1)).Shuffle(order);
        var chosen = order.Take(Math.Min(count, order.Length)).ToArray();
        var bs = cfg.Evaluation.BatchSize;
        for (var start = 0; start < chosen.Length; start += bs)
        {
            var n = Math.Min(bs, chosen.Length - start);
            var buffer = new float[n * pre.TensorLength];
            Parallel.For(0, n, i => pre.Apply(ImageCodec.Decode(data.Train[chosen[start + i]].Path), buffer.AsSpan(i * pre.TensorLength, pre.TensorLength)));
            yield return Tensor.FromArray(buffer, n, 3, pre.Height, pre.Width);
        }
    }

    public static ReidModel BuildModel(ExperimentConfig cfg, int classes)
    {
        var a = cfg.Architecture;
        var probe = new ModelConfig
        {
            Backbone = BackboneName(a.Backbone), LastStride = a.LastStride1 switch { true => 1, false => 2, null => null },
            Pooling = a.Pooling == ConfigPooling.Gem ? BackbonePooling.GeM : BackbonePooling.Average,
            GemP = (float)a.GemP,
        };
        var backboneDim = ((IBackbone)probe.CreateBackbone()).OutputDim;
        return new ReidModel(probe with
        {
            EmbeddingDim = a.EmbeddingSize == backboneDim ? 0 : a.EmbeddingSize,
            BnNeck = a.Bnneck,
            Classes = cfg.Losses.CrossEntropy.Weight > 0 ? classes : 0,
            Parts = a.Parts.Stripes,
            PartEmbeddingDim = a.Parts.EmbeddingSize,
        });
    }

    public static string BackboneName(Backbone b) => b switch
    {
        Backbone.MobilenetV2 => "mobilenetv2",
        _ => ConfigBinder.SnakeCase(b.ToString()),
    };

    private static string Architecture(ExperimentConfig cfg, ReidModel model)
    {
        var l = cfg.Losses;
        return model.Config.Architecture + (l.Arcface.Weight > 0 ? "+arcface" : "") + (l.Center.Weight > 0 ? "+center" : "");
    }

    private static Optimizer BuildOptimizer(TrainingConfig t, IReadOnlyList<ParameterGroup> groups, int stepsPerEpoch)
    {
        var s = t.Schedule;
        var warmup = s.WarmupEpochs * stepsPerEpoch;
        var total = (long)t.Epochs * stepsPerEpoch;
        LearningRateSchedule schedule = s.Kind switch
        {
            ScheduleKind.Cosine => new WarmupCosineSchedule(warmup, total, s.WarmupFactor, s.MinFactor),
            ScheduleKind.Step => new WarmupMultiStepSchedule(warmup, s.Milestones.Select(m => (long)m * stepsPerEpoch).ToList(), s.Gamma, s.WarmupFactor),
            _ => new ConstantSchedule(),
        };
        return t.Optimizer switch
        {
            OptimizerKind.Sgd => new Sgd(groups, t.Momentum, t.Nesterov, schedule),
            OptimizerKind.Adam => new Adam(groups, schedule: schedule),
            _ => new AdamW(groups, schedule: schedule),
        };
    }

    private static void SetBackboneFrozen(ReidModel model, bool frozen)
    {
        foreach (var p in model.Backbone.Parameters())
        {
            p.RequiresGrad = !frozen;
        }
    }
}
