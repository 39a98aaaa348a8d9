using Reid.Core;
using Reid.Core.Config;
using Reid.TestSupport;
using Reid.Training.Backbones;
using Reid.Training.Config;

namespace Reid.Training.Tests.Config;

public sealed class ExperimentConfigTests : IDisposable
{
    private readonly TempDir _dir = new();

    public ExperimentConfigTests()
    {
        Directory.CreateDirectory(_dir.File("data"));
        Directory.CreateDirectory(_dir.File("split"));
        File.WriteAllText(_dir.File("split/train.txt"), "0001_c1s1_000151_01.jpg\n");
    }

    public void Dispose() => _dir.Dispose();

    private string Base => "data:\n  root: data\n  split: split\n";

    private ExperimentConfig Parse(string yaml) => ExperimentConfigLoader.Parse(yaml, "test.yaml", _dir.Path);

    private string Error(string yaml) => Assert.Throws<ReidException>(() => Parse(yaml)).Message;

    [Fact]
    public void A_full_recipe_binds_every_section_into_typed_values()
    {
        var c = Parse("""
            name: full
            seed: 7
            output: out/run
            architecture:
              backbone: osnet_x0_5
              embedding_size: 256
              pooling: gem
              bnneck: false
              dropout: 0.2
              last_stride1: true
            data:
              root: data
              split: split
              validation: { folds: 4, fold: 3 }
              image_size: [128, 64]
            augmentation:
              flip: 0.25
              pad: 4
              random_erasing: { probability: 0.3, min_area: 0.05, max_area: 0.2 }
              color_jitter: { probability: 0.5, brightness: 0.3, hue: 0.05 }
            training:
              identities_per_batch: 8
              images_per_identity: 2
              epochs: 30
              optimizer: sgd
              learning_rate: 0.01
              nesterov: yes
              backbone_lr_factor: 0.1
              accumulation: 2
              clip_grad_norm: 5
              precision: bf16
              schedule: { kind: step, milestones: [10, 20], gamma: 0.5, warmup_epochs: 2 }
            losses:
              cross_entropy: { weight: 1, label_smoothing: 0.2 }
              triplet: { weight: 0.5, margin: 0.4, soft_margin: true }
              arcface: { weight: 1, margin: 0.35, scale: 64 }
              center: { weight: 0.001 }
            evaluation: { every: 3 }
            """);
        Assert.Equal("full", c.Name);
        Assert.Equal(7, c.Seed);
        Assert.Equal(Path.Combine(_dir.Path, "out", "run"), c.Output);
        Assert.Equal("osnet_x0_5", c.Architecture.Backbone);
        Assert.Equal(256, c.Architecture.EmbeddingSize);
        Assert.Equal(Pooling.Gem, c.Architecture.Pooling);
        Assert.False(c.Architecture.Bnneck);
        Assert.True(c.Architecture.RandomInit);
        Assert.True(c.Architecture.LastStride1);
        Assert.Equal(Path.Combine(_dir.Path, "data"), c.Data.Root);
        Assert.Equal((4, 3), (c.Data.Validation.Folds, c.Data.Validation.Fold));
        Assert.Equal((128, 64), (c.Data.Height, c.Data.Width));
        Assert.Equal(0.3, c.Augmentation.RandomErasing.Probability);
        Assert.Equal(0.3, c.Augmentation.RandomErasing.MinAspect); // untouched keys keep their defaults
        Assert.Equal(0.05, c.Augmentation.ColorJitter.Hue);
        Assert.Equal(OptimizerKind.Sgd, c.Training.Optimizer);
        Assert.True(c.Training.Nesterov);
        Assert.Equal(Reid.Engine.Tensors.PrecisionSetting.Bf16, c.Training.Precision);
        Assert.Equal(ScheduleKind.Step, c.Training.Schedule.Kind);
        Assert.Equal([10, 20], c.Training.Schedule.Milestones);
        Assert.True(c.Losses.Triplet.SoftMargin);
        Assert.Equal(64, c.Losses.Arcface.Scale);
        Assert.Equal(0.001, c.Losses.Center.Weight);
        Assert.Equal(3, c.Evaluation.Every);
    }

    [Fact]
    public void Defaults_are_a_usable_bag_of_tricks_recipe()
    {
        var c = Parse(Base);
        Assert.Equal("osnet_x0_25", c.Architecture.Backbone);
        Assert.Equal((16, 4), (c.Training.IdentitiesPerBatch, c.Training.ImagesPerIdentity));
        Assert.Equal(0.1, c.Losses.CrossEntropy.LabelSmoothing);
        Assert.Equal(0, c.Losses.Arcface.Weight);
        Assert.Equal(5, c.Data.Validation.Folds);
        Assert.Null(c.Architecture.LastStride1); // each backbone's usual choice
    }

    [Theory]
    [InlineData("~", null)]
    [InlineData("null", null)]
    [InlineData("false", false)]
    public void An_optional_setting_can_be_left_unset_or_given(string value, bool? expected) =>
        Assert.Equal(expected, Parse(Base + $"architecture:\n  last_stride1: {value}\n").Architecture.LastStride1);

    [Fact]
    public void Part_heads_are_off_unless_stripes_are_given()
    {
        Assert.Equal(0, Parse(Base).Architecture.Parts.Stripes);
        var p = Parse(Base + "architecture:\n  parts: { stripes: 2, embedding_size: 128, loss_weight: 0.5 }\n").Architecture.Parts;
        Assert.Equal(new PartsConfig { Stripes = 2, EmbeddingSize = 128, LossWeight = 0.5 }, p);
    }

    [Fact]
    public void A_bad_optional_value_is_still_an_error() =>
        Assert.Contains("architecture.last_stride1", Error(Base + "architecture:\n  last_stride1: maybe\n"));

    [Fact]
    public void Precision_defaults_to_auto_and_an_unknown_value_names_the_choices()
    {
        Assert.Equal(Reid.Engine.Tensors.PrecisionSetting.Auto, Parse(Base).Training.Precision);
        var e = Error(Base + "training:\n  precision: fp16\n");
        Assert.Contains("training.precision", e);
        Assert.Contains("auto, f32, bf16", e);
    }

    [SharedFact]
    public void Every_shipped_recipe_asks_for_auto_precision()
    {
        var configs = Path.Combine(Reid.Core.ProjectPaths.RepoRoot!, "configs");
        foreach (var recipe in Directory.GetFiles(configs, "*.yaml").Where(f => File.ReadAllText(f).Contains("training:")))
            Assert.True(ExperimentConfigLoader.Load(recipe).Training.Precision == Reid.Engine.Tensors.PrecisionSetting.Auto, recipe);
    }

    [Fact]
    public void An_unknown_enum_value_names_the_key_and_the_allowed_values()
    {
        var e = Error(Base + "training:\n  optimizer: adagrad\n");
        Assert.Contains("training.optimizer", e);
        Assert.Contains("'adagrad'", e);
        Assert.Contains("sgd, adam, adamw", e);
        Assert.Contains("line 5", e);

        e = Error(Base + "architecture:\n  backbone: vgg16\n");
        Assert.Contains("architecture.backbone", e);
        Assert.Contains("osnet_x0_25", e);
        Assert.Contains("mobilenet_v2", e);
    }

    [Fact]
    public void An_unknown_key_is_an_error_naming_it_and_the_keys_allowed_there()
    {
        var e = Error(Base + "training:\n  lerning_rate: 0.1\n");
        Assert.Contains("unknown key 'training.lerning_rate'", e);
        Assert.Contains("learning_rate", e);
    }

    [Theory]
    [InlineData("training:\n  learning_rate: fast\n", "training.learning_rate", "not a number")]
    [InlineData("training:\n  epochs: 2.5\n", "training.epochs", "not an integer")]
    [InlineData("architecture:\n  bnneck: maybe\n", "architecture.bnneck", "not true or false")]
    [InlineData("training: 3\n", "training", "expected a section")]
    [InlineData("training:\n  learning_rate: -1\n", "training.learning_rate", "out of range")]
    [InlineData("losses:\n  cross_entropy: { label_smoothing: 1.0 }\n", "losses.cross_entropy.label_smoothing", "[0, 1)")]
    [InlineData("data:\n  root: data\n  split: split\n  validation: { folds: 5, fold: 5 }\n", "data.validation.fold", "[0, 4]")]
    [InlineData("data:\n  root: data\n  split: split\n  validation: { folds: 1 }\n", "data.validation.folds", "at least 2")]
    [InlineData("data:\n  root: data\n  split: split\n  image_size: [256]\n", "data.image_size", "[height, width]")]
    [InlineData("training:\n  schedule: { kind: step }\n", "training.schedule.milestones", "at least one")]
    [InlineData("training:\n  epochs: 10\n  schedule: { kind: step, milestones: [5, 12] }\n", "training.schedule.milestones[1]", "[1, 9]")]
    [InlineData("training:\n  images_per_identity: 1\n", "training.images_per_identity", "positive")]
    [InlineData("losses:\n  cross_entropy: { weight: 0 }\n  triplet: { weight: 0 }\n", "losses", "every weight is 0")]
    [InlineData("losses:\n  arcface: { weight: 1, margin: 2 }\n", "losses.arcface.margin", "out of range")]
    [InlineData("architecture:\n  parts: { stripes: 9 }\n", "architecture.parts.stripes", "[0, 8]")]
    [InlineData("architecture:\n  parts: { stripes: 2, embedding_size: 4 }\n", "architecture.parts.embedding_size", "out of range")]
    [InlineData("architecture:\n  init: missing.onnx\n", "architecture.init", "not found")]
    [InlineData("losses:\n  distillation: { weight: 1 }\n", "losses.distillation.teacher = init", "nothing to distil")]
    [InlineData("losses:\n  distillation: { weight: 1, teacher: nowhere.onnx }\n", "losses.distillation.teacher", "not found")]
    [InlineData("losses:\n  distillation: { weight: -1 }\n", "losses.distillation.weight", "out of range")]
    [InlineData("losses:\n  distillation: { weight: 1, kind: logits }\n", "losses.distillation.kind", "feature, similarity")]
    [InlineData("export:\n  wise_ft: 1.5\n", "export.wise_ft", "[0, 1]")]
    [InlineData("export:\n  wise_ft: 0.5\n", "export.wise_ft", "random")]
    [InlineData("architecture:\n  init: weights.pt\n", "architecture.init", "'random' or the path of an .onnx")]
    public void Bad_values_name_the_key_and_what_is_allowed(string section, string key, string hint)
    {
        var yaml = section.StartsWith("data:") ? section : Base + section;
        var e = Error(yaml);
        Assert.Contains(key, e);
        Assert.Contains(hint, e);
        Assert.StartsWith("test.yaml:", e);
    }

    [Fact]
    public void Missing_data_folders_are_named()
    {
        var e = Error("data:\n  root: nowhere\n  split: alsonowhere\n");
        Assert.Contains("data.root: folder", e);
        Assert.Contains("nowhere", e);
        Assert.Contains("train.txt", e);
    }

    [Fact]
    public void Scoring_on_the_split_needs_its_query_and_gallery_lists()
    {
        var e = Error(Base + "evaluation: { on: split }\n");
        Assert.Contains("evaluation.on = split", e);
        Assert.Contains("query.txt", e);
        Assert.Contains("gallery.txt", e);
        Assert.Contains("validation, split", Error(Base + "evaluation: { on: test }\n"));

        File.WriteAllText(_dir.File("split/query.txt"), "0002_c1s1_000151_01.jpg\n");
        File.WriteAllText(_dir.File("split/gallery.txt"), "0002_c2s1_000151_01.jpg\n");
        Assert.Equal(EvaluationSet.Split, Parse(Base + "evaluation: { on: split }\n").Evaluation.On);
        Assert.Equal(EvaluationSet.Validation, Parse(Base).Evaluation.On);
    }

    [Fact]
    public void Several_problems_are_reported_together()
    {
        var e = Error(Base + "training:\n  epochs: 0\n  learning_rate: 0\n");
        Assert.Contains("training.epochs", e);
        Assert.Contains("training.learning_rate", e);
    }

    [Fact]
    public void Binding_and_range_problems_are_reported_together_each_with_its_line()
    {
        var e = Error(Base + "training:\n  epochs: 0\n  optimizer: adagrad\n  lerning_rate: 0.1\n  learningRate: 0.1\n");
        Assert.Contains("training.epochs = 0 is out of range; allowed [1, 10000] (line 5)", e);
        Assert.Contains("training.optimizer (line 6): 'adagrad' is not allowed", e);
        Assert.Contains("unknown key 'training.lerning_rate' (line 7)", e);
        Assert.Contains("'training.learningRate' (line 8) is now 'training.learning_rate'", e);
    }

    [Fact]
    public void Malformed_yaml_and_duplicate_keys_are_user_errors()
    {
        Assert.Contains("not valid YAML", Error("training: [1, 2\n"));
        Assert.Contains("Duplicate key", Error(Base + "seed: 1\nseed: 2\n"));
    }

    [Fact]
    public void Load_reports_a_missing_file_and_resolves_paths_against_the_recipe_folder()
    {
        Assert.Throws<ReidException>(() => ExperimentConfigLoader.Load(_dir.File("none.yaml")));
        File.WriteAllText(_dir.File("r.yaml"), Base + "output: runs/a\n");
        var c = ExperimentConfigLoader.Load(_dir.File("r.yaml"));
        Assert.Equal(Path.Combine(_dir.Path, "runs", "a"), c.Output);
        Assert.Equal(Path.Combine(_dir.Path, "split"), c.Data.Split);
    }

    [Theory]
    [InlineData("EmbeddingSize", "embedding_size")]
    [InlineData("OsnetX0_25", "osnet_x0_25")]
    [InlineData("MobilenetV2", "mobilenet_v2")]
    [InlineData("Resnet50", "resnet50")]
    [InlineData("Bf16", "bf16")]
    public void Keys_are_snake_case(string name, string snake) => Assert.Equal(snake, ConfigBinder.SnakeCase(name));

    // What the architecture section builds: pooling and its exponent reach the layers (GeM was once ignored for OSNet).
    [Theory]
    [InlineData("osnet_x0_25", "backbone.global_gempool.p")]
    [InlineData("resnet18", "head.pool.p")]
    public void Gem_pooling_and_its_initial_exponent_reach_every_backbone(string backbone, string parameter)
    {
        var cfg = Parse($"architecture:\n  backbone: {backbone}\n  pooling: gem\n  gem_p: 3.5\n" + Base);
        var model = Reid.Training.Trainer.TrainingRun.BuildModel(cfg, 4);
        var p = model.NamedParameters().Where(x => x.Name.EndsWith(".p")).ToList();
        Assert.Equal(parameter, Assert.Single(p).Name);
        Assert.Equal(3.5f, p[0].Parameter.Data[0]);
    }
}
