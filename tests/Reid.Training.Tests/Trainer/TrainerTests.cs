using Reid.Core;
using Reid.Engine.Checkpoints;
using Reid.TestSupport;
using Reid.Training.Config;
using Reid.Training.Reports;
using Reid.Training.Tests.Support;
using Reid.Training.Trainer;

namespace Reid.Training.Tests.Trainer;

/// <summary>
/// Whole training runs: alone, after the parallel tests, because the engine's layers initialise from the
/// process-wide Rng.Shared and a concurrent test drawing from it would change a run's initial weights.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingRuns { public const string Name = "training runs"; }

[Collection(TrainingRuns.Name)]
public sealed class TrainerTests
{
    private static string Recipe(string root, string split, string output, int epochs, int batches, string extra = "") => $"""
        name: tiny
        seed: 3
        output: {output}
        architecture: {"{"} backbone: osnet_x0_25, embedding_size: 64 {"}"}
        data:
          root: {root}
          split: {split}
          validation: {"{"} folds: 4, fold: 0 {"}"}
          image_size: [64, 32]
          workers: 2
        augmentation: {"{"} pad: 2 {"}"}
        training:
          identities_per_batch: 4
          images_per_identity: 4
          epochs: {epochs}
          batches_per_epoch: {batches}
          optimizer: adam
          learning_rate: 0.003
          schedule: {"{"} kind: cosine, warmup_epochs: 1 {"}"}
        evaluation: {"{"} every: 2, batch_size: 32 {"}"}
        {extra}
        """;

    private static ExperimentConfig Config(TempDir dir, int ids, int epochs, int batches, string output, string extra = "", int heldOut = 0)
    {
        var (root, split) = SyntheticPeople.Write(dir.Path, ids, 8, heldOutIdentities: heldOut);
        return ExperimentConfigLoader.Parse(Recipe(Path.Combine(root, "bounding_box_train"), split, output, epochs, batches, extra), "tiny.yaml", dir.Path);
    }

    [Fact]
    public void A_tiny_run_on_synthetic_people_lowers_its_loss_raises_accuracy_and_exports_a_model_with_card_and_curves()
    {
        using var dir = new TempDir();
        var cfg = Config(dir, ids: 12, epochs: 6, batches: 4, output: "run");
        var updates = 0;
        var result = new TrainingRun(cfg, new TrainerOptions { Command = "reid train --config tiny.yaml", RecipeText = "name: tiny" })
            .Run(resume: false, new SyncProgress(_ => updates++));

        Assert.True(result.Completed);
        Assert.True(updates > 10);
        var rows = new MetricsLog(result.OutputDir).Read();
        Assert.Equal(6, rows.Count);
        Assert.True(rows[^1].Loss < rows[0].Loss * 0.8, $"loss {rows[0].Loss:F3} -> {rows[^1].Loss:F3}");
        Assert.True(rows[^1].Accuracy > rows[0].Accuracy + 0.2, $"accuracy {rows[0].Accuracy:F3} -> {rows[^1].Accuracy:F3}");
        Assert.Contains("ce", rows[0].Parts.Keys);
        Assert.Contains("triplet", rows[0].Parts.Keys);
        Assert.NotNull(rows[1].Rank1); // evaluated every 2 epochs on the held-out fold
        Assert.Null(rows[2].Rank1);
        Assert.InRange(rows[^1].Rank1!.Value, 0, 1);
        Assert.True(File.Exists(result.ModelPath));
        Assert.Contains("wall time", File.ReadAllText(result.ModelCardPath!), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("non-commercial", File.ReadAllText(result.ModelCardPath!));
        // the card names the machine the wall time came from, and the arithmetic `auto` chose there
        var cpu = Reid.Engine.Tensors.CpuCapabilities.Current;
        Assert.Contains($"{cpu.CpuModel}, {cpu.LogicalCpus} logical CPU(s), oneDNN {cpu.OneDnnVersion} ISA {cpu.Isa}, bf16 {(cpu.Bf16 ? "yes" : "no")}", File.ReadAllText(result.ModelCardPath!));
        Assert.Contains("Arithmetic: precision auto -> " + (cpu.Bf16 ? "bf16" : "f32"), File.ReadAllText(result.ModelCardPath!));
        Assert.Contains("<svg", File.ReadAllText(result.CurvesPath));
        Assert.Equal(7, File.ReadAllLines(Path.Combine(result.OutputDir, "metrics.csv")).Length);
    }

    [Fact]
    public void A_bf16_recipe_fails_before_any_work_on_a_cpu_without_bf16_kernels_and_runs_where_it_has_them()
    {
        using var dir = new TempDir();
        var cfg = Config(dir, ids: 8, epochs: 2, batches: 1, output: "run");
        cfg = cfg with { Training = cfg.Training with { Precision = Reid.Engine.Tensors.PrecisionSetting.Bf16 } };
        var cpu = Reid.Engine.Tensors.CpuCapabilities.Current;
        if (!cpu.Bf16Available)
        {
            var e = Assert.Throws<ReidException>(() => new TrainingRun(cfg, new TrainerOptions { Export = false }));
            Assert.Contains($"ISA {cpu.Isa}", e.Message);
            Assert.Contains("use precision auto or f32", e.Message);
            Assert.False(File.Exists(Path.Combine(cfg.Output, TrainingRun.CheckpointFile)));
            return;
        }
        var run = new TrainingRun(cfg, new TrainerOptions { Export = false });
        Assert.Contains("precision bf16", run.PrecisionNote);
        Assert.True(run.Run(false).Completed);
    }

    [Fact]
    public void A_run_interrupted_mid_epoch_and_resumed_ends_exactly_where_an_uninterrupted_one_does()
    {
        using var dir = new TempDir();
        const string extra = "losses: { center: { weight: 0.001 } }\narchitecture: { backbone: osnet_x0_25, embedding_size: 64, dropout: 0.1 }";
        var whole = Config(dir, ids: 8, epochs: 3, batches: 3, output: "whole", extra.Split('\n')[0]);
        whole = whole with { Architecture = whole.Architecture with { Dropout = 0.1 } };
        var split = whole with { Output = Path.Combine(dir.Path, "split") };

        var a = new TrainingRun(whole, new TrainerOptions { Export = false }).Run(false);
        Assert.True(a.Completed);

        using var cancel = new CancellationTokenSource();
        var seen = 0;
        var first = new TrainingRun(split, new TrainerOptions { Export = false })
            .Run(false, new SyncProgress(p => { if (p.Phase == "training" && ++seen == 5) cancel.Cancel(); }), cancel.Token);
        Assert.False(first.Completed);
        Assert.Equal(1, first.EpochsDone); // stopped inside the second epoch

        // starting again without --resume refuses to overwrite the run
        Assert.Throws<ReidException>(() => new TrainingRun(split, new TrainerOptions { Export = false }).Run(false));
        var b = new TrainingRun(split, new TrainerOptions { Export = false }).Run(true);
        Assert.True(b.Completed);

        var wa = TensorArchive.Read(a.CheckpointPath).Tensors.ToDictionary(t => t.Name);
        var wb = TensorArchive.Read(b.CheckpointPath).Tensors.ToDictionary(t => t.Name);
        Assert.Equal(wa.Keys.Order(), wb.Keys.Order());
        Assert.Contains(wa.Keys, k => k.EndsWith("centers"));
        foreach (var (name, t) in wa) Assert.True(t.Data.SequenceEqual(wb[name].Data), $"tensor {name} differs after resume");
        var la = new MetricsLog(a.OutputDir).Read();
        var lb = new MetricsLog(b.OutputDir).Read();
        Assert.Equal(la.Select(r => r.Loss), lb.Select(r => r.Loss));
        Assert.Equal(la.Select(r => r.Rank1), lb.Select(r => r.Rank1));
    }

    [Fact]
    public void Dropout_reaches_the_arcface_classifier_when_softmax_is_off()
    {
        // The shipped recipe trains ArcFace alone (cross_entropy weight 0): dropout must still act on its classifier.
        double FirstLoss(double dropout)
        {
            using var dir = new TempDir();
            var cfg = Config(dir, ids: 8, epochs: 2, batches: 2, output: "run",
                "losses: { cross_entropy: { weight: 0 }, triplet: { weight: 0 }, arcface: { weight: 1, margin: 0.3, scale: 30 } }");
            cfg = cfg with { Architecture = cfg.Architecture with { Dropout = dropout } };
            var result = new TrainingRun(cfg, new TrainerOptions { Export = false }).Run(false);
            Assert.True(result.Completed);
            var row = new MetricsLog(result.OutputDir).Read()[0];
            Assert.Equal(["arcface"], row.Parts.Keys.Where(k => k != "total").Order());
            return row.Loss;
        }
        var plain = FirstLoss(0);
        Assert.Equal(plain, FirstLoss(0)); // deterministic, so a difference below is the dropout's
        Assert.NotEqual(plain, FirstLoss(0.5));
    }

    [Fact]
    public void Part_heads_train_with_their_own_arcface_weights_and_export_the_longer_embedding()
    {
        using var dir = new TempDir();
        var cfg = Config(dir, ids: 8, epochs: 2, batches: 2, output: "run",
            "losses: { cross_entropy: { weight: 0 }, triplet: { weight: 1 }, arcface: { weight: 1 }, center: { weight: 0.0005 } }");
        // On every identity, as the shipped default is trained: nothing is scored while it trains.
        cfg = cfg with
        {
            Architecture = cfg.Architecture with { Parts = new PartsConfig { Stripes = 2, EmbeddingSize = 16, LossWeight = 0.5 } },
            Data = cfg.Data with { Validation = cfg.Data.Validation with { Folds = 0 } },
        };
        var result = new TrainingRun(cfg, new TrainerOptions()).Run(false);
        Assert.True(result.Completed);
        var row = new MetricsLog(result.OutputDir).Read()[0];
        Assert.Equal(["arcface", "center", "parts", "triplet"], row.Parts.Keys.Where(k => k != "total").Order());
        Assert.True(row.Parts["parts"] > 0);
        var total = row.Parts["arcface"] + row.Parts["triplet"] + 0.0005 * row.Parts["center"] + 0.5 * row.Parts["parts"];
        Assert.Equal(total, row.Loss, 3);
        var saved = TensorArchive.Read(result.CheckpointPath).Tensors.ToDictionary(t => t.Name);
        Assert.Equal([saved["model/arcface"].Shape[0], 64], saved["model/arcface"].Shape);
        Assert.Equal([saved["model/arcface"].Shape[0], 16], saved["model/arcface_part1"].Shape);
        Assert.Equal([16, 128], saved["model/model.part0.reduce.weight"].Shape);   // OSNet x0.25's last map has 128 channels
        using var session = Reid.Inference.InferenceSession.Open(result.ModelPath!, new Reid.Inference.SessionOptions(IntraOpThreads: 1));
        session.Run(new float[3 * 64 * 32], [1, 3, 64, 32], out var shape);
        Assert.Equal([1L, 64 + 2 * 16], shape);
        var card = File.ReadAllText(result.ModelCardPath!);
        Assert.Contains("output `embeddings` batch x 96,", card); // the exported width, parts included
        Assert.Contains("Nothing was scored during training", card);
        Assert.DoesNotContain("val Rank-1", card);
    }

    [Fact]
    public void A_run_on_every_identity_can_score_itself_on_the_splits_query_and_gallery_and_says_so()
    {
        using var dir = new TempDir();
        var cfg = Config(dir, ids: 8, epochs: 2, batches: 2, output: "run", heldOut: 3);
        cfg = cfg with
        {
            Data = cfg.Data with { Validation = new ValidationConfig { Folds = 0 } },
            Evaluation = cfg.Evaluation with { Every = 1, On = EvaluationSet.Split },
        };

        var data = TrainingData.Load(cfg.Data, cfg.Evaluation.On);
        Assert.Equal(8, data.TrainIdentities); // the held-out people are never trained on
        Assert.Equal(3, data.EvaluationQuery.Count);
        Assert.Equal(21, data.EvaluationGallery.Count);
        Assert.All(data.EvaluationQuery.Concat(data.EvaluationGallery), r => Assert.InRange(r.PersonId, 9, 11));
        Assert.Empty(TrainingData.Load(cfg.Data).EvaluationQuery); // folds: 0 and no split scoring: nothing to score on

        var result = new TrainingRun(cfg, new TrainerOptions { RecipeText = "name: tiny" }).Run(resume: false);
        Assert.True(result.Completed);
        var rows = new MetricsLog(result.OutputDir).Read();
        Assert.All(rows, r => Assert.InRange(r.Rank1!.Value, 0, 1));
        Assert.Contains("split Rank-1", File.ReadAllText(result.ModelCardPath!));
        Assert.Contains("not chosen by them", File.ReadAllText(result.ModelCardPath!));
        Assert.Contains("split query/gallery Rank-1", File.ReadAllText(result.CurvesPath));
    }

    [Fact]
    public void Extra_sources_are_trained_on_whole_with_their_identities_kept_apart_and_the_fold_from_the_main_set()
    {
        using var dir = new TempDir();
        var cfg = Config(dir, ids: 8, epochs: 2, batches: 1, output: "run");
        // a second data set whose people are numbered 1..6 as well: they are other people
        var (root2, split2) = SyntheticPeople.Write(dir.File("second"), 6, 5, seed: 9);
        cfg = cfg with { Data = cfg.Data with { Sources = [new SourceConfig { Root = Path.Combine(root2, "bounding_box_train"), Split = split2 }] } };
        var data = TrainingData.Load(cfg.Data);
        Assert.Equal(6 + 6, data.Classes);                 // 6 of the main set's 8 train (fold 1/4 holds 2 out), all 6 of the second
        Assert.Equal(6 * 8 + 6 * 5, data.Train.Count);
        Assert.All(data.EvaluationQuery.Concat(data.EvaluationGallery), r => Assert.StartsWith(dir.File("market"), r.Path));
        var labelsOfSecond = data.Train.Select((r, i) => (r, i)).Where(t => t.r.Path.StartsWith(dir.File("second"))).Select(t => data.Labels[t.i]).Distinct().ToList();
        Assert.Equal(6, labelsOfSecond.Count);
        Assert.All(labelsOfSecond, l => Assert.InRange(l, 6, 11));
        Assert.Contains("+ ", data.Description);
        var result = new TrainingRun(cfg, new TrainerOptions { Export = false }).Run(false);
        Assert.True(result.Completed);

        var yaml = "data:\n  root: .\n  sources:\n    - { dataset: cuhk03, root: nowhere }\n";
        Assert.Contains("data.sources[0].root: ", Assert.Throws<ReidException>(() => ExperimentConfigLoader.Parse(yaml, "r.yaml", dir.Path)).Message);
    }

    /// <summary>Embeds one fixed synthetic batch with an exported model.</summary>
    private static float[] Embed(string model, int height, int width)
    {
        var rng = new Random(5);
        var input = Enumerable.Range(0, 2 * 3 * height * width).Select(_ => (float)rng.NextDouble()).ToArray();
        using var session = Reid.Inference.InferenceSession.Open(model, new Reid.Inference.SessionOptions(IntraOpThreads: 1));
        return session.Run(input, [2, 3, height, width], out _).ToArray();
    }

    [SharedFact]
    public void Distilling_from_the_msmt17_start_logs_its_loss_and_wise_ft_exports_blend_back_towards_the_start()
    {
        using var dir = new TempDir();
        var cfg = Config(dir, ids: 8, epochs: 2, batches: 2, output: "run",
            "losses: { cross_entropy: { weight: 0 }, triplet: { weight: 1 }, arcface: { weight: 1 } }");
        cfg = cfg with
        {
            Architecture = cfg.Architecture with { Init = SharedData.OsnetMsmt17, EmbeddingSize = 512, InitCalibrationImages = 32 },
            Losses = cfg.Losses with { Distillation = new DistillationConfig { Weight = 2 } },
            Data = cfg.Data with { ImageSize = [256, 128] },   // the MSMT17 model's input, so both can embed the same batch
        };
        var result = new TrainingRun(cfg, new TrainerOptions()).Run(false);
        Assert.True(result.Completed);
        var rows = new MetricsLog(result.OutputDir).Read();
        // the student starts as the teacher (only BatchNorm's batch statistics differ), so the cosine loss starts small
        Assert.InRange(rows[0].Parts["distill"], 1e-6, 0.5);
        Assert.Equal(rows[0].Parts["arcface"] + rows[0].Parts["triplet"] + 2 * rows[0].Parts["distill"], rows[0].Loss, 3);
        using (var session = Reid.Inference.InferenceSession.Open(result.ModelPath!))
            Assert.Equal("feature x 2 from osnet_x0_25_msmt17.onnx", session.Metadata["reid.distillation"]);

        var run = new TrainingRun(cfg, new TrainerOptions());
        var trained = Embed(result.ModelPath!, 256, 128);
        // α = 1 is the trained model itself; α = 0 is exactly the model fine-tuning started from (its BNNeck blended
        // to the identity); α = 0.5 lies between; metadata says what was blended
        run.ExportWiseFt(1, 0, dir.File("a1.onnx"));
        Assert.Equal(trained, Embed(dir.File("a1.onnx"), 256, 128), new FloatTolerance(1e-4f));
        run.ExportWiseFt(0, 0, dir.File("a0.onnx"));
        var start = Embed(SharedData.OsnetMsmt17, 256, 128);
        Assert.Equal(start, Embed(dir.File("a0.onnx"), 256, 128), new FloatTolerance(2e-3f * start.Max(Math.Abs)));
        var note = run.ExportWiseFt(0.5, 0, dir.File("half.onnx"));
        Assert.Contains("WiSE-FT alpha 0.5", note);
        Assert.Contains("BNNeck blended with the identity", note);
        var half = Embed(dir.File("half.onnx"), 256, 128);
        Assert.True(half.Zip(trained).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "α = 0.5 should change the embedding");
        run.ExportWiseFt(0.5, 64, dir.File("refreshed.onnx"));
        using (var session = Reid.Inference.InferenceSession.Open(dir.File("refreshed.onnx")))
            Assert.Contains("recomputed on 64 training images", session.Metadata["reid.wise_ft"]);
        // out of range, or a run that has not finished: clear errors
        Assert.Contains("out of range", Assert.Throws<ReidException>(() => run.ExportWiseFt(1.5, 0, dir.File("x.onnx"))).Message);
        var unfinished = new TrainingRun(cfg with { Output = dir.File("none") }, new TrainerOptions());
        Assert.Contains("train it first", Assert.Throws<ReidException>(() => unfinished.ExportWiseFt(0.5, 0, dir.File("x.onnx"))).Message);
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }

    private sealed class SyncProgress(Action<TrainProgress> report) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => report(value);
    }
}

[Collection(TrainingRuns.Name)]
public sealed class SmokeRecipeTests
{
    /// <summary>The shipped smoke recipe on real Market-1501 images: the whole `reid train` path end to end.</summary>
    [SharedFact]
    public void The_smoke_recipe_trains_on_real_images_and_exports()
    {
        var recipe = Path.Combine(ProjectPaths.RepoRoot!, "configs", "train_smoke.yaml");
        using var dir = new TempDir();
        var cfg = ExperimentConfigLoader.Load(recipe) with { Output = dir.File("run") };
        var result = new TrainingRun(cfg, new TrainerOptions { RecipePath = recipe, RecipeText = File.ReadAllText(recipe) }).Run(false);
        Assert.True(result.Completed);
        Assert.True(File.Exists(result.ModelPath));
        var rows = new MetricsLog(result.OutputDir).Read();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.NotNull(r.Rank1));
        Assert.All(rows, r => Assert.True(double.IsFinite(r.Loss)));
    }
}
