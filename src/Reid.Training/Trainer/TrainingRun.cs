using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Core.Config;
using Reid.Engine.Autograd;
using Reid.Engine.Checkpoints;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Optim;
using Reid.Engine.Tensors;
using Reid.Evaluation;
using Reid.Imaging;
using Reid.Training.Backbones;
using Reid.Training.Config;
using Reid.Training.Data;
using Reid.Training.Export;
using Reid.Training.Import;
using Reid.Training.Losses;
using Reid.Training.Reports;

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

    /// <summary>Trains (or resumes) the run: load → per epoch (train, evaluate when due, log, checkpoint) → export.</summary>
    public TrainResult Run(bool resume, IProgress<TrainProgress>? progress = null, CancellationToken cancel = default)
    {
        var run = Load(resume, progress);
        using var precision = Precision.Use(_precision);
        while (run.State.Epoch < _cfg.Training.Epochs && !run.Interrupted)
        {
            TrainEpoch(run, progress, cancel);
            if (run.Interrupted) break;
            EndEpoch(run, progress);
            if (cancel.IsCancellationRequested && run.State.Epoch < _cfg.Training.Epochs) run.Interrupted = true;
        }
        if (run.Interrupted) run.SaveCheckpoint();
        return Finish(run, progress);
    }

    /// <summary>Everything a run holds between its steps; <see cref="SaveCheckpoint"/> writes all of it.</summary>
    private sealed class LoadedRun
    {
        public required TrainingData Data { get; init; }
        public required PkSampler Sampler { get; init; }
        public required ReidModel Model { get; init; }
        public required TrainingModel Training { get; init; }
        public required ReidModel? Teacher { get; init; }
        public required Rng Rng { get; init; }
        public required Optimizer Optimizer { get; init; }
        public required GradientAccumulator Accumulator { get; init; }
        public required string Architecture { get; init; }
        public required string? InitNote { get; init; }
        public required RunState State { get; init; }
        public required MetricsLog Log { get; init; }
        public required Augmenter Augmenter { get; init; }
        public required string CheckpointPath { get; init; }
        public int Batches => Sampler.BatchesPerEpoch;
        public Stopwatch RunClock { get; } = Stopwatch.StartNew();
        public Stopwatch EpochClock { get; } = new();
        public Stopwatch SinceCheckpoint { get; } = Stopwatch.StartNew();
        public double WallAtStart { get; init; }
        public long ImagesThisProcess { get; set; }
        public bool Interrupted { get; set; }
        public EvaluationResult? LastEvaluation { get; set; }

        public double Wall => WallAtStart + RunClock.Elapsed.TotalSeconds;

        public void SaveCheckpoint()
        {
            State.EpochSeconds += EpochClock.Elapsed.TotalSeconds;
            EpochClock.Restart();
            State.WallSeconds = Wall;
            Checkpoint.Save(CheckpointPath, Architecture, Training, Optimizer, State.Epoch, Rng, State.ToJson());
            SinceCheckpoint.Restart();
        }
    }

    /// <summary>Data, models (with the init imported), optimiser and schedule from the recipe; the checkpoint's state when resuming.</summary>
    private LoadedRun Load(bool resume, IProgress<TrainProgress>? progress)
    {
        var cfg = _cfg;
        var t = cfg.Training;
        Directory.CreateDirectory(OutputDir);
        var resuming = resume && File.Exists(CheckpointPath);
        if (!resume && File.Exists(CheckpointPath))
            throw new ReidException($"{OutputDir} already holds a run ({CheckpointFile}); add --resume to continue it or choose another --out");

        progress?.Report(new TrainProgress("loading data", 0, t.Epochs, 0, 0, new Dictionary<string, double>(), 0, 0, TimeSpan.Zero, null, null));
        var data = TrainingData.Load(cfg.Data, cfg.Evaluation.On);
        var sampler = new PkSampler(data.Labels, t.IdentitiesPerBatch, t.ImagesPerIdentity, cfg.Seed, t.BatchesPerEpoch);
        if (sampler.BatchesPerEpoch % t.Accumulation != 0)
            throw new ReidException($"training.accumulation = {t.Accumulation} must divide the {sampler.BatchesPerEpoch} batches of an epoch (set training.batches_per_epoch)");

        // The model, the loss state and the dropout stream all draw from one seeded generator, saved in checkpoints.
        // Layers initialise from Rng.Shared; point it at the run's generator only while building, then
        // dropout draws from the run's generator explicitly (never from a process-wide one).
        var (model, training, rng) = BuildModels(cfg, data.Classes);
        var initNote = cfg.Architecture.RandomInit ? null : ImportInit(model, data, calibrate: !resuming, progress);
        var teacher = cfg.Losses.Distillation.Weight > 0 ? BuildTeacher(cfg) : null;

        var trainables = ModelParameters.Of(training);
        var groups = ParameterGroups.Build(trainables, t.LearningRate * t.BackboneLrFactor, t.LearningRate, t.WeightDecay, TrainingModel.HeadPrefixes);
        var optimizer = BuildOptimizer(t, groups, sampler.BatchesPerEpoch / t.Accumulation);
        var architecture = Architecture(cfg, model);

        var state = new RunState { Seed = cfg.Seed };
        if (resuming)
        {
            var info = Checkpoint.Load(CheckpointPath, architecture, training, optimizer, rng);
            state = RunState.From(info.Extra, CheckpointPath);
            if (state.Seed != cfg.Seed)
                throw new ReidException($"{CheckpointPath}: was trained with seed {state.Seed}, the recipe says {cfg.Seed}");
        }
        return new LoadedRun
        {
            Data = data, Sampler = sampler, Model = model, Training = training, Teacher = teacher, Rng = rng,
            Optimizer = optimizer, Accumulator = new GradientAccumulator(optimizer, t.Accumulation, t.ClipGradNorm > 0 ? t.ClipGradNorm : null),
            Architecture = architecture, InitNote = initNote, State = state, Log = new MetricsLog(OutputDir),
            Augmenter = new Augmenter(cfg.Augmentation, cfg.Data.Height, cfg.Data.Width, ImageNetMean, ImageNetStd),
            CheckpointPath = CheckpointPath, WallAtStart = state.WallSeconds,
        };
    }

    /// <summary>
    /// The epoch's remaining batches (a resumed run starts where its checkpoint stopped), one optimiser step per
    /// <c>training.accumulation</c> batches; checkpoints at step boundaries every <c>checkpoint.every_minutes</c> and
    /// stops there when cancelled.
    /// </summary>
    private void TrainEpoch(LoadedRun run, IProgress<TrainProgress>? progress, CancellationToken cancel)
    {
        var (cfg, t, state) = (_cfg, _cfg.Training, run.State);
        var epoch = state.Epoch;
        run.EpochClock.Restart();
        SetBackboneFrozen(run.Model, epoch < t.FreezeBackboneEpochs);
        run.Training.Train();
        using var loader = new TrainLoader(run.Data.Train.Select(r => r.Path).ToList(), run.Data.Labels, run.Sampler.Epoch(epoch), epoch, state.Batch,
            run.Augmenter, cfg.Seed, cfg.Data.Workers, cfg.Data.QueueBatches);
        var waitBefore = TimeSpan.Zero;
        while (loader.Next() is { } batch)
        {
            var parts = Step(run.Training, run.Teacher, batch, cfg, run.Rng, out var correct);
            run.Accumulator.MicroBatchDone();
            state.Add(parts, correct, batch.Count);
            state.Batch = batch.Index + 1;
            run.ImagesThisProcess += batch.Count;
            state.DataWaitSeconds += (loader.WaitTime - waitBefore).TotalSeconds;
            waitBefore = loader.WaitTime;

            var ips = run.ImagesThisProcess / Math.Max(run.RunClock.Elapsed.TotalSeconds, 1e-9);
            var remaining = ((long)(t.Epochs - epoch) * run.Batches - state.Batch) * (long)run.Sampler.BatchSize;
            progress?.Report(new TrainProgress("training", epoch + 1, t.Epochs, state.Batch, run.Batches, state.MeanParts(),
                state.Accuracy, ips, TimeSpan.FromSeconds(remaining / Math.Max(ips, 1e-9)), run.LastEvaluation?.Rank1, run.LastEvaluation?.MeanAP));

            var atStepBoundary = state.Batch % t.Accumulation == 0;
            if (atStepBoundary && state.Batch < run.Batches)
            {
                if (cancel.IsCancellationRequested) { run.Interrupted = true; return; }
                if (run.SinceCheckpoint.Elapsed.TotalMinutes >= cfg.Checkpoint.EveryMinutes) run.SaveCheckpoint();
            }
        }
    }

    /// <summary>Evaluates when due (and after the last epoch), logs the epoch, checkpoints; images/s counts training only.</summary>
    private void EndEpoch(LoadedRun run, IProgress<TrainProgress>? progress)
    {
        var (cfg, t, state) = (_cfg, _cfg.Training, run.State);
        var epoch = state.Epoch;
        var epochSeconds = state.EpochSeconds + run.EpochClock.Elapsed.TotalSeconds;
        double? r1 = null, ap = null, inp = null;
        var last = epoch + 1 == t.Epochs;
        var due = cfg.Evaluation.Every > 0 && (epoch + 1) % cfg.Evaluation.Every == 0;
        if ((due || last) && run.Data.EvaluationQuery.Count > 0)
        {
            progress?.Report(new TrainProgress("evaluating", epoch + 1, t.Epochs, run.Batches, run.Batches, state.MeanParts(), state.Accuracy, 0, TimeSpan.Zero,
                run.LastEvaluation?.Rank1, run.LastEvaluation?.MeanAP));
            run.LastEvaluation = Score(run.Model, run.Data, cfg);
            (r1, ap, inp) = (run.LastEvaluation.Rank1, run.LastEvaluation.MeanAP, run.LastEvaluation.MeanInp);
        }
        var lr = run.Optimizer.LearningRate(run.Optimizer.Groups.First(g => g.Name.StartsWith("head", StringComparison.Ordinal)));
        run.Log.Append(new EpochMetrics(epoch + 1, lr, state.MeanLoss, state.MeanParts(), state.Accuracy,
            state.Images / Math.Max(epochSeconds, 1e-9), epochSeconds, state.DataWaitSeconds, r1, ap, inp));
        state.NextEpoch();
        run.EpochClock.Restart();
        run.SaveCheckpoint();
    }

    /// <summary>Draws the curves; a finished run is exported (WiSE-FT blend when asked) with its model card.</summary>
    private TrainResult Finish(LoadedRun run, IProgress<TrainProgress>? progress)
    {
        var (cfg, t, state) = (_cfg, _cfg.Training, run.State);
        var wall = run.Wall;
        var metrics = run.Log.Read();
        var curves = CurvesPage.Write(Path.Combine(OutputDir, "curves.html"), cfg.Name, metrics, run.Data.EvaluationName);
        var (r1, ap) = (run.LastEvaluation?.Rank1, run.LastEvaluation?.MeanAP);
        if (run.Interrupted || state.Epoch < t.Epochs)
            return new TrainResult(false, state.Epoch, OutputDir, CheckpointPath, null, null, curves, wall, state.TotalDataWaitSeconds, r1, ap);

        string? modelPath = null, cardPath = null;
        if (_options.Export)
        {
            progress?.Report(new TrainProgress("exporting", t.Epochs, t.Epochs, run.Batches, run.Batches, new Dictionary<string, double>(), 0, 0, TimeSpan.Zero, r1, ap));
            modelPath = Path.Combine(OutputDir, "model.onnx");
            var wiseFt = ApplyWiseFt(run.Model, run.Data, cfg.Export.WiseFt, cfg.Export.BnRefreshImages, progress);
            Export(run.Model, modelPath, run.Architecture, run.Data, run.InitNote, wiseFt);
            cardPath = ModelCard.Write(Path.Combine(OutputDir, "MODEL_CARD.md"), new ModelCardFacts(
                cfg, _options.Command, _options.RecipePath, _options.RecipeText, run.Data.Description, run.InitNote, run.Architecture,
                run.Model.ParameterCount(), wall, state.Resumes, metrics, Path.GetFileName(modelPath), run.Model.EmbeddingDim,
                CpuCapabilities.Current, PrecisionNote, DistillationNote(), wiseFt));
        }
        return new TrainResult(true, state.Epoch, OutputDir, CheckpointPath, modelPath, cardPath, curves, wall, state.TotalDataWaitSeconds, r1, ap);
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
        using var precision = Precision.Use(_precision);
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
        using var scope = new TensorScope();
        var x = Tensor.FromArray(batch.Images, batch.Count, 3, batch.Height, batch.Width);
        var losses = training.Losses(x, batch.Labels, cfg.Losses, cfg.Architecture, rng, teacher);
        var parts = new Dictionary<string, double>();
        Tensor? total = null;
        foreach (var (name, loss, weight) in losses.Terms)
        {
            parts[name] = loss.Item();
            var weighted = weight == 1 ? loss : Ops.Scale(loss, (float)weight);
            total = total is null ? weighted : Ops.Add(total, weighted);
        }
        var sum = total!.Item();
        if (!double.IsFinite(sum))
            throw new ReidException($"training diverged: the loss is {sum} at epoch {batch.Epoch + 1}, batch {batch.Index + 1} (lower training.learning_rate or set training.clip_grad_norm)");
        total.Backward();
        training.UpdateCenters(losses, batch.Labels, cfg.Losses.Center);
        parts["total"] = sum;
        correct = losses.Correct;
        return parts;
    }

    /// <summary>Rank-1/mAP on the run's evaluation query/gallery (the validation fold, or the split's own with
    /// evaluation.on: split) with eval's Evaluator (cosine distance, Market-1501 protocol).</summary>
    public static EvaluationResult Score(ReidModel model, TrainingData data, ExperimentConfig cfg)
    {
        float[][] Embed(IReadOnlyList<Reid.Data.ImageRecord> records) =>
            EngineEmbedding.Embed(model, records, cfg.Data.Height, cfg.Data.Width, cfg.Evaluation.BatchSize).Embeddings;
        var distances = DistanceMatrix.Compute(Embed(data.EvaluationQuery), Embed(data.EvaluationGallery), DistanceKind.Cosine);
        return Evaluator.Evaluate(distances, data.EvaluationQuery, data.EvaluationGallery, new EvaluationOptions(Verification: false));
    }

    /// <summary>A seeded sample of un-augmented training images, in evaluation-size batches, for BN calibration.</summary>
    private static IEnumerable<Tensor> CalibrationImages(TrainingData data, ExperimentConfig cfg, int count)
    {
        var order = Enumerable.Range(0, data.Train.Count).ToArray();
        new Random(Seeds.Int(cfg.Seed, Seeds.Model, 1)).Shuffle(order);
        var chosen = order.Take(Math.Min(count, order.Length)).Select(i => data.Train[i].Path).ToList();
        return EngineEmbedding.Batches(chosen, cfg.Data.Height, cfg.Data.Width, cfg.Evaluation.BatchSize);
    }

    public static ReidModel BuildModel(ExperimentConfig cfg, int classes)
    {
        var a = cfg.Architecture;
        var probe = new ModelConfig
        {
            Backbone = a.Backbone, LastStride = a.LastStride1 switch { true => 1, false => 2, null => null },
            Pooling = a.Pooling,
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
