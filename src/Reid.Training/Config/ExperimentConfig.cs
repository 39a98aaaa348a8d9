using Reid.Data;
using Reid.Engine.Tensors;
using Reid.Training.Backbones;

namespace Reid.Training.Config;

// The experiment recipe as typed records. YAML keys are the snake_case names of these properties
// (ExperimentConfigLoader binds them and names the key in every error); defaults are the values a
// user would expect when a key is left out, so a recipe states only what it changes.

/// <summary>One training run: what model, on what data, with which augmentation, schedule and losses.</summary>
public sealed record ExperimentConfig
{
    public string Name { get; init; } = "experiment";
    public int Seed { get; init; } = 1;
    /// <summary>Run folder (checkpoints, metrics, curves, model); relative paths are relative to the recipe file.</summary>
    public string Output { get; init; } = "runs/experiment";
    public ArchitectureConfig Architecture { get; init; } = new();
    public DataConfig Data { get; init; } = new();
    public AugmentationConfig Augmentation { get; init; } = new();
    public TrainingConfig Training { get; init; } = new();
    public LossesConfig Losses { get; init; } = new();
    public EvaluationConfig Evaluation { get; init; } = new();
    public CheckpointConfig Checkpoint { get; init; } = new();
    public ExportConfig Export { get; init; } = new();
}


/// <summary>
/// How randomly initialised layers start. Uniform: PyTorch's layer defaults, U(±1/√fan_in). Kaiming: what
/// torchreid's OSNet and ResNet use when trained from scratch (He et al. 2015 normal with the fan-out, linear
/// layers N(0, 0.01), zero biases) — with BatchNorm after every convolution the scale of a weight sets its
/// effective learning rate, so this matters from random weights, not when fine-tuning.
/// </summary>
public enum WeightInit { Uniform, Kaiming }

public sealed record ArchitectureConfig
{
    /// <summary>A name of <see cref="BackboneRegistry"/>.</summary>
    public string Backbone { get; init; } = "osnet_x0_25";
    /// <summary>Size of the embedding the model outputs (a linear reduction after pooling when it differs from the backbone's width).</summary>
    public int EmbeddingSize { get; init; } = 512;
    public Pooling Pooling { get; init; } = Pooling.Avg;
    /// <summary>Initial GeM exponent (learned) when pooling is gem.</summary>
    public double GemP { get; init; } = 3.0;
    /// <summary>Batch-norm neck (Luo et al. 2019): triplet/centre on the feature before it, softmax after it.</summary>
    public bool Bnneck { get; init; } = true;
    /// <summary>Dropout probability on the feature the identity classifiers (softmax, ArcFace) see; 0 disables it.</summary>
    public double Dropout { get; init; }
    /// <summary>"random" or the path of an ONNX model whose weights initialise the backbone (fine-tuning).</summary>
    public string Init { get; init; } = "random";
    /// <summary>Initialisation of every layer not imported from <see cref="Init"/> (the whole network when random).</summary>
    public WeightInit WeightInit { get; init; } = WeightInit.Uniform;
    /// <summary>
    /// Training images (un-augmented) used to turn BatchNorms that an ONNX export folded into its convolutions back
    /// into real ones before fine-tuning (see FoldedBatchNormCalibrator); 0 skips it.
    /// </summary>
    public int InitCalibrationImages { get; init; } = 512;
    /// <summary>
    /// Last down-sampling at stride 1 (a 16x8 final map at 256x128 instead of 8x4). Unset: each backbone's usual
    /// setting, true for ResNet and MobileNetV2 (BoT), false for OSNet (torchreid); true on OSNet drops conv3's pool.
    /// </summary>
    public bool? LastStride1 { get; init; }
    /// <summary>Part-based heads on horizontal stripes of the last feature map, next to the global head.</summary>
    public PartsConfig Parts { get; init; } = new();

    public bool RandomInit => string.Equals(Init, "random", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// PCB/MGN-style part heads (Sun et al. 2018; Wang et al. 2018): the backbone's last map is cut into
/// <see cref="Stripes"/> horizontal stripes, each pooled into its own reduced, BNNeck'd feature trained with the
/// same identity and triplet losses as the global head (own classifier weights). The exported embedding is the
/// global embedding followed by the parts'.
/// </summary>
public sealed record PartsConfig
{
    /// <summary>Number of stripes; 0 = global head only.</summary>
    public int Stripes { get; init; }
    /// <summary>Embedding size of each part.</summary>
    public int EmbeddingSize { get; init; } = 256;
    /// <summary>Weight of the parts' losses (their mean over parts) against the global head's.</summary>
    public double LossWeight { get; init; } = 1.0;
}

public sealed record DataConfig
{
    public DatasetKind Dataset { get; init; } = DatasetKind.Market1501;
    /// <summary>The data set root (for Market-1501: the folder holding bounding_box_train/; for csv: the file).</summary>
    public string Root { get; init; } = "";
    /// <summary>Split folder with train.txt (its query/gallery lists are never trained on); empty: the data set's own training folder.</summary>
    public string Split { get; init; } = "";
    public ValidationConfig Validation { get; init; } = new();
    /// <summary>[height, width] the model sees.</summary>
    public int[] ImageSize { get; init; } = [256, 128];
    /// <summary>Use only the first N training identities (0 = all): for smoke runs.</summary>
    public int MaxIdentities { get; init; }
    /// <summary>
    /// More data sets trained on next to the one above (multi-source training, as torchreid and fast-reid offer): each
    /// source's identities are kept apart (its own labels) and every P x K batch draws from the union. A source is
    /// trained on whole: its split's train.txt, or every image of a folder without a split; the validation fold
    /// is drawn from the main data set only.
    /// </summary>
    public SourceConfig[] Sources { get; init; } = [];
    /// <summary>Decode and augment workers (background threads) and the bounded queue of ready batches.</summary>
    public int Workers { get; init; } = 2;
    public int QueueBatches { get; init; } = 4;

    public int Height => ImageSize[0];
    public int Width => ImageSize[1];
}

/// <summary>One extra training data set (see <see cref="DataConfig.Sources"/>).</summary>
public sealed record SourceConfig
{
    public DatasetKind Dataset { get; init; } = DatasetKind.Market1501;
    public string Root { get; init; } = "";
    public string Split { get; init; } = "";
}

/// <summary>
/// The validation fold: the training identities are split into k identity-disjoint folds (seeded); fold
/// <see cref="Fold"/> is held out for the periodic evaluation, the others are trained on. k = 0 trains on
/// every training identity and skips validation (for the final model, once the recipe is chosen).
/// </summary>
public sealed record ValidationConfig
{
    public int Folds { get; init; } = 5;
    public int Fold { get; init; }
    /// <summary>Seed of the identity shuffle behind the folds (kept apart from the run seed so runs share folds).</summary>
    public int Seed { get; init; } = 0;
}

public sealed record AugmentationConfig
{
    /// <summary>Probability of a horizontal flip.</summary>
    public double Flip { get; init; } = 0.5;
    /// <summary>Zero padding (pixels) before a random crop back to the image size; 0 disables.</summary>
    public int Pad { get; init; } = 10;
    public RandomErasingConfig RandomErasing { get; init; } = new();
    public ColorJitterConfig ColorJitter { get; init; } = new();
}

/// <summary>Random erasing (Zhong et al. 2020): a rectangle of the normalised image replaced by the mean (0 after normalisation).</summary>
public sealed record RandomErasingConfig
{
    public double Probability { get; init; } = 0.5;
    public double MinArea { get; init; } = 0.02;
    public double MaxArea { get; init; } = 0.4;
    public double MinAspect { get; init; } = 0.3;
}

/// <summary>Colour jitter: each factor drawn uniformly from [1-x, 1+x]; hue shift in [-x, x] of a turn.</summary>
public sealed record ColorJitterConfig
{
    public double Probability { get; init; }
    public double Brightness { get; init; } = 0.2;
    public double Contrast { get; init; } = 0.15;
    public double Saturation { get; init; } = 0.1;
    public double Hue { get; init; }
}

public enum OptimizerKind { Sgd, Adam, Adamw }
public enum ScheduleKind { Cosine, Step, Constant }

public sealed record TrainingConfig
{
    /// <summary>P: identities per batch.</summary>
    public int IdentitiesPerBatch { get; init; } = 16;
    /// <summary>K: images per identity in a batch (drawn with replacement when an identity has fewer).</summary>
    public int ImagesPerIdentity { get; init; } = 4;
    public int Epochs { get; init; } = 60;
    /// <summary>Batches per epoch; 0 = as many as cover every training image once (images / (P x K)).</summary>
    public int BatchesPerEpoch { get; init; }
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    public double LearningRate { get; init; } = 3.5e-4;
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; } = 5e-4;
    /// <summary>Learning rate of the (pre-trained) backbone as a fraction of the head's.</summary>
    public double BackboneLrFactor { get; init; } = 1.0;
    /// <summary>Epochs with the backbone frozen (only the head learns) at the start of fine-tuning.</summary>
    public int FreezeBackboneEpochs { get; init; }
    public ScheduleConfig Schedule { get; init; } = new();
    /// <summary>Batches whose gradients add up before one optimiser step.</summary>
    public int Accumulation { get; init; } = 1;
    /// <summary>Clip the global gradient L2 norm to this value; 0 disables.</summary>
    public double ClipGradNorm { get; init; }
    /// <summary>
    /// auto (bf16 where oneDNN runs it natively, else f32), f32, or bf16: bf16 convolutions and matrix products
    /// with f32 master weights (the engine's mixed precision). Resolved by <see cref="CpuCapabilities.Resolve"/>.
    /// </summary>
    public PrecisionSetting Precision { get; init; } = PrecisionSetting.Auto;
}

public sealed record ScheduleConfig
{
    public ScheduleKind Kind { get; init; } = ScheduleKind.Cosine;
    /// <summary>Linear warmup from warmup_factor x lr to lr over these epochs.</summary>
    public int WarmupEpochs { get; init; } = 5;
    public double WarmupFactor { get; init; } = 0.1;
    /// <summary>Step decay: epochs at which the rate is multiplied by gamma.</summary>
    public int[] Milestones { get; init; } = [];
    public double Gamma { get; init; } = 0.1;
    /// <summary>Cosine: the floor as a fraction of the base rate.</summary>
    public double MinFactor { get; init; } = 0.01;
}

public sealed record LossesConfig
{
    public CrossEntropyConfig CrossEntropy { get; init; } = new();
    public TripletConfig Triplet { get; init; } = new();
    public ArcFaceConfig Arcface { get; init; } = new() { Weight = 0 };
    public CenterConfig Center { get; init; } = new() { Weight = 0 };
    public DistillationConfig Distillation { get; init; } = new();
}

public sealed record CrossEntropyConfig
{
    public double Weight { get; init; } = 1.0;
    public double LabelSmoothing { get; init; } = 0.1;
}

public sealed record TripletConfig
{
    public double Weight { get; init; } = 1.0;
    public double Margin { get; init; } = 0.3;
    /// <summary>Soft margin: log(1 + exp(d_ap - d_an)) instead of the hinge.</summary>
    public bool SoftMargin { get; init; }
}

public sealed record ArcFaceConfig
{
    public double Weight { get; init; } = 1.0;
    public double Margin { get; init; } = 0.5;
    public double Scale { get; init; } = 30.0;
}

/// <summary>
/// What a distillation loss keeps of the teacher. Feature: each image's embedding points where the teacher's does
/// (1 − cosine, averaged; needs the same width). Similarity: the batch's cosine-similarity matrix matches the
/// teacher's (mean squared difference over pairs; Tung and Mori 2019), which leaves the student free to rotate
/// its space and works across widths.
/// </summary>
public enum DistillationKind { Feature, Similarity }

/// <summary>
/// Learning without forgetting (Li and Hoiem 2017): a frozen teacher sees every augmented batch and the student's
/// global feature (before BNNeck) is pulled towards what the teacher makes of it, so fine-tuning on one data set
/// keeps what the starting model knew about others.
/// </summary>
public sealed record DistillationConfig
{
    /// <summary>0 = off.</summary>
    public double Weight { get; init; }
    /// <summary>"init" (the frozen architecture.init model) or the path of an ONNX model of the same backbone.</summary>
    public string Teacher { get; init; } = "init";
    public DistillationKind Kind { get; init; } = DistillationKind.Feature;

    public bool TeacherIsInit => string.Equals(Teacher, "init", StringComparison.OrdinalIgnoreCase);
}

public sealed record CenterConfig
{
    public double Weight { get; init; } = 5e-4;
    /// <summary>Rate at which the class centres follow their features.</summary>
    public double CenterLr { get; init; } = 0.5;
}

/// <summary>
/// What a run scores itself on while it trains. <c>Validation</c>: the held-out fold of the training identities
/// (data.validation), the set to choose a recipe by. <c>Split</c>: the split's own query/gallery lists (for
/// holdout-v1, the test set): lets a final run that trains on every identity (folds: 0) show its learning
/// curve, but a recipe chosen by these figures would be tuned on the test.
/// </summary>
public enum EvaluationSet { Validation, Split }

public sealed record EvaluationConfig
{
    /// <summary>Evaluate every N epochs (and after the last); 0 = only after the last.</summary>
    public int Every { get; init; } = 5;
    public int BatchSize { get; init; } = 64;
    public EvaluationSet On { get; init; } = EvaluationSet.Validation;
}

public sealed record CheckpointConfig
{
    /// <summary>Also checkpoint mid-epoch when this many minutes passed since the last one.</summary>
    public double EveryMinutes { get; init; } = 10;
}

/// <summary>What the exported model is made of.</summary>
public sealed record ExportConfig
{
    /// <summary>
    /// WiSE-FT (Wortsman et al. 2022): the exported weights are (1 − α)·θ₀ + α·θ, θ₀ the backbone as it started
    /// (architecture.init after BatchNorm calibration) and θ the trained one; 1 exports the trained weights, lower
    /// values trade accuracy on the training cameras for what the initial model knew. Layers the initial model does
    /// not have (heads) keep their trained weights.
    /// </summary>
    public double WiseFt { get; init; } = 1.0;
    /// <summary>
    /// After interpolating, recompute every BatchNorm's running statistics on this many un-augmented training images
    /// (as SWA's update_bn does); 0 keeps the interpolated statistics.
    /// </summary>
    public int BnRefreshImages { get; init; }
}
