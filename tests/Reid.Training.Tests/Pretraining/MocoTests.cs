using Reid.Core;
using Reid.TestSupport;
using Reid.Training.Backbones;
using Reid.Training.Config;
using Reid.Training.Losses;
using Reid.Training.Pretraining;
using Reid.Training.Tests.Support;
using Reid.Training.Tests.Trainer;
using Reid.Training.Trainer;

namespace Reid.Training.Tests.Pretraining;

public sealed class MocoLossTests
{
    [Fact]
    public void Moco_gradient_matches_finite_differences_and_counts_queries_whose_own_key_wins()
    {
        const int n = 3, d = 4, queued = 5;
        var rng = new Random(4);
        float[] Unit(int rows) => Enumerable.Range(0, rows).SelectMany(_ =>
        {
            var v = Enumerable.Range(0, d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var norm = MathF.Sqrt(v.Sum(x => x * x));
            return v.Select(x => x / norm);
        }).ToArray();
        var keys = Unit(n);
        var queue = Unit(queued);
        // queries equal to their keys (scaled): each own key is the most similar
        var q = keys.Select(v => v * 2f).ToArray();
        MocoLoss.Forward(q, keys, n, d, queue, queued, 0.2, default, out var correct);
        Assert.Equal(n, correct);

        var x = Enumerable.Range(0, n * d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var g = new float[n * d];
        MocoLoss.Forward(x, keys, n, d, queue, queued, 0.5, g, out _);
        for (var i = 0; i < x.Length; i++)
        {
            var keep = x[i];
            x[i] = keep + 1e-3f; var up = MocoLoss.Forward(x, keys, n, d, queue, queued, 0.5, default, out _);
            x[i] = keep - 1e-3f; var down = MocoLoss.Forward(x, keys, n, d, queue, queued, 0.5, default, out _);
            x[i] = keep;
            var numeric = (up - down) / 2e-3;
            Assert.True(Math.Abs(numeric - g[i]) <= 2e-3 + 2e-2 * Math.Abs(numeric), $"[{i}] analytic {g[i]} vs {numeric}");
        }
    }
}

[Collection(TrainingRuns.Name)]
public sealed class MocoRunTests
{
    [Fact]
    public void The_key_encoder_starts_as_the_query_follows_it_by_momentum_and_the_queue_wraps()
    {
        var moco = new MocoModel(new ModelConfig { Backbone = "osnet_x0_25", BnNeck = false }, projectionDim: 4, queueSize: 3);
        var (name, qp) = moco.Query.NamedParameters().First();
        var kp = moco.Key.NamedParameters().First(p => p.Name == name).Parameter;
        Assert.Equal(qp.Data.ToArray(), kp.Data.ToArray());
        var before = kp.Data[0];
        qp.Data[0] = before + 1;
        moco.MomentumUpdate(0.9);
        Assert.Equal(before + 0.1f, kp.Data[0], 5);
        Assert.All(moco.Key.Parameters(), p => Assert.False(p.RequiresGrad));

        moco.Enqueue([1, 0, 0, 0, 0, 1, 0, 0]);
        Assert.Equal(2, moco.Queued);
        moco.Enqueue([0, 0, 1, 0, 0, 0, 0, 1]);   // 4 keys into 3 slots: the oldest is replaced
        Assert.Equal(3, moco.Queued);
        Assert.Equal([0f, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0], moco.QueueValues);
    }

    [Fact]
    public void Pretraining_runs_resumes_exports_a_backbone_that_reid_train_starts_from_and_refuses_too_few_crops()
    {
        using var dir = new TempDir();
        var (root, split) = SyntheticPeople.Write(dir.Path, identities: 8, imagesPerIdentity: 8);
        var crops = Path.Combine(root, "bounding_box_train");
        var options = new PretrainOptions
        {
            Images = [crops], Output = dir.File("moco"), Height = 64, Width = 32, Epochs = 2, StepsPerEpoch = 2, BatchSize = 8,
            QueueSize = 16, MinImages = 16,
        };
        using var cancel = new CancellationTokenSource();
        var first = new PretrainRun(options).Run(false, new Progress(p => { if (p.Phase == "training" && p.Epoch == 2) cancel.Cancel(); }), cancel.Token);
        Assert.False(first.Completed);
        Assert.Single(first.Epochs);
        var result = new PretrainRun(options).Run(resume: true);
        Assert.True(result.Completed);
        Assert.Equal([1, 2], result.Epochs.Select(e => e.Epoch));
        Assert.All(result.Epochs, e => Assert.True(double.IsFinite(e.Loss) && e.Loss > 0));
        Assert.Contains("MoCo v2", File.ReadAllText(result.CardPath!));

        // the export is a backbone: a recipe starts from it
        var recipe = $"""
            name: from-moco
            output: {dir.File("train")}
            architecture: {"{"} backbone: osnet_x0_25, init: {result.ModelPath} {"}"}
            data: {"{"} root: {crops}, split: {split}, validation: {"{"} folds: 4 {"}"}, image_size: [64, 32], workers: 1 {"}"}
            training: {"{"} identities_per_batch: 4, images_per_identity: 2, epochs: 1, batches_per_epoch: 2, schedule: {"{"} warmup_epochs: 0 {"}"} {"}"}
            """;
        var cfg = ExperimentConfigLoader.Parse(recipe, "r.yaml", dir.Path);
        var trained = new TrainingRun(cfg, new TrainerOptions { Export = false }).Run(false);
        Assert.True(trained.Completed);

        var few = Assert.Throws<ReidException>(() => new PretrainRun(options with { Output = dir.File("x"), MinImages = 1000 }).Run(false));
        Assert.Contains("pre-training needs at least 1000", few.Message);
    }

    [Fact]
    public void Pretraining_reads_crops_packed_in_a_store_with_those_of_folders()
    {
        using var dir = new TempDir();
        var (root, _) = SyntheticPeople.Write(dir.Path, identities: 4, imagesPerIdentity: 4);
        var crops = Path.Combine(root, "bounding_box_train");
        var storePath = dir.File("mined.db");
        using (var store = Reid.Data.CropStore.OpenOrCreate(storePath))
            store.AddSource("/videos/street.mp4", 1, Directory.GetFiles(crops).Select((f, i) =>
                (new Reid.Data.CropOrigin("/videos/street.mp4", i / 4, i, "0,0,32,64"), File.ReadAllBytes(f))));
        var options = new PretrainOptions
        {
            Images = [crops], Stores = [storePath], Output = dir.File("moco"), Height = 64, Width = 32, Epochs = 1, StepsPerEpoch = 2,
            BatchSize = 8, QueueSize = 16, MinImages = 32,
        };
        var result = new PretrainRun(options).Run(false);
        Assert.True(result.Completed);
        Assert.Equal(32, result.Images);   // 16 files + 16 packed crops: each alone is below MinImages
        Assert.Contains("mined.db", File.ReadAllText(result.CardPath!));
        Assert.Throws<ReidException>(() => new PretrainRun(options with { Stores = [], Output = dir.File("y") }).Run(false));
        Assert.Contains("crop store", Assert.Throws<ReidException>(() => PretrainRun.Validate(options with { Stores = [dir.File("missing.db")] })).Message);
    }

    private sealed class Progress(Action<PretrainProgress> report) : IProgress<PretrainProgress>
    {
        public void Report(PretrainProgress value) => report(value);
    }
}
