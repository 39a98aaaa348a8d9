using Reid.Core;
using Reid.Data;
using Reid.TestSupport;
using Reid.Training.Adaptation;
using Reid.Training.Tests.Trainer;

namespace Reid.Training.Tests.Adaptation;

/// <summary>`reid adapt` end to end on a few real CUHK03 train/ crops (with the MSMT17 OSNet, a bare backbone export).</summary>
[Collection(TrainingRuns.Name)]
public sealed class AdaptationTests
{
    private static string Crops(TempDir dir, int count)
    {
        var folder = dir.File("crops");
        Directory.CreateDirectory(folder);
        foreach (var f in Directory.GetFiles(SharedData.Path("data", "cuhk03", "detected", "train")).Order(StringComparer.Ordinal).Take(count))
            File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        return folder;
    }

    private static AdaptOptions Options(TempDir dir, string crops, int epochs) => new()
    {
        Model = SharedData.OsnetMsmt17, Images = [crops], Output = dir.File("run"), Epochs = epochs, StepsPerEpoch = 2,
        IdentitiesPerBatch = 4, ImagesPerIdentity = 4, K1 = 10, BatchSize = 32,
        Score = Cuhk03Dataset.Load(crops),
    };

    [SharedFact]
    public void Adapting_reports_clusters_scores_before_and_after_and_resumes_after_an_interruption()
    {
        using var dir = new TempDir();
        var crops = Crops(dir, 120);
        using var cancel = new CancellationTokenSource();
        // stop while the second epoch trains: the first is checkpointed
        var first = new AdaptationRun(Options(dir, crops, 2)).Run(false,
            new Progress(p => { if (p.Phase == "training" && p.Epoch == 2) cancel.Cancel(); }), cancel.Token);
        Assert.False(first.Completed);
        Assert.Single(first.Epochs);
        var e = first.Epochs[0];
        Assert.True(e.Clusters >= 2 && e.Clustered + e.Outliers == 120, $"{e.Clusters} clusters, {e.Clustered} clustered, {e.Outliers} outliers");

        var result = new AdaptationRun(Options(dir, crops, 2)).Run(resume: true);
        Assert.True(result.Completed);
        Assert.Equal([1, 2], result.Epochs.Select(x => x.Epoch));
        // the "before" figure is the input model's own: the engine's import of it scores as ONNX Runtime does
        var onnx = OnnxRuntimeScore(SharedData.OsnetMsmt17, Cuhk03Dataset.Load(crops));
        Assert.Equal(onnx.Rank1, result.Before!.Rank1, 3);
        Assert.Equal(onnx.MeanAP, result.Before!.MeanAP, 3);
        Assert.NotNull(result.After);
        Assert.True(File.Exists(result.ModelPath));
        var card = File.ReadAllText(result.CardPath!);
        Assert.Contains("Cluster Contrast", card);
        Assert.Contains("| before (osnet_x0_25_msmt17.onnx) |", card);
        Assert.Contains("120 unlabelled crops", card);
        using var session = Reid.Inference.InferenceSession.Open(result.ModelPath!);
        Assert.Equal("reid adapt", session.Metadata["reid.recipe"]);
    }

    [SharedFact]
    public void Too_few_crops_or_clusters_that_do_not_form_are_clear_errors_that_say_what_to_try()
    {
        using var dir = new TempDir();
        var few = Crops(dir, 20);
        var error = Assert.Throws<ReidException>(() => new AdaptationRun(Options(dir, few, 1) with { Score = null }).Run(false));
        Assert.Contains("found 20 image(s)", error.Message);
        Assert.Contains("at least 64", error.Message);

        using var dir2 = new TempDir();
        var crops = Crops(dir2, 80);
        // no crop has 500 others near it: no cluster forms
        error = Assert.Throws<ReidException>(() => new AdaptationRun(Options(dir2, crops, 1) with { Score = null, MinSamples = 500 }).Run(false));
        Assert.Contains("found 0 identities (80 outliers)", error.Message);
        Assert.Contains("raise --eps", error.Message);
        // everything within eps of everything: one cluster of all 80
        error = Assert.Throws<ReidException>(() => new AdaptationRun(Options(dir2, crops, 1) with { Score = null, Eps = 1 }).Run(false));
        Assert.Contains("found 1 identity (0 outliers)", error.Message);
        Assert.Contains("lower --eps", error.Message);
        Assert.False(File.Exists(Path.Combine(dir2.File("run"), "model.onnx")));

        Assert.Contains("not found", Assert.Throws<ReidException>(() => new AdaptationRun(Options(dir2, dir2.File("nowhere"), 1))).Message);
    }

    private static Reid.Evaluation.EvaluationResult OnnxRuntimeScore(string model, ReidDataset data)
    {
        using var embedder = Reid.Inference.Embedder.Open(model);
        float[][] Embed(IReadOnlyList<ImageRecord> records) =>
            Reid.Evaluation.DatasetEmbedding.Run(records, embedder.Embed).Embeddings.ToArray();
        var distances = Reid.Evaluation.DistanceMatrix.Compute(Embed(data.Query), Embed(data.Gallery), Reid.Evaluation.DistanceKind.Cosine);
        return Reid.Evaluation.Evaluator.Evaluate(distances, data.Query, data.Gallery, new Reid.Evaluation.EvaluationOptions(Verification: false));
    }

    private sealed class Progress(Action<AdaptProgress> report) : IProgress<AdaptProgress>
    {
        public void Report(AdaptProgress value) => report(value);
    }
}

public sealed class AdaptationVerdictTests
{
    [Fact]
    public void An_adaptation_that_lowers_the_labelled_map_says_so_instead_of_a_silent_done()
    {
        var worse = AdaptationRun.WorseWarning(new AdaptScore(0.372, 0.422), new AdaptScore(0.327, 0.353), "cuhk03");
        Assert.Contains("worse on cuhk03 (mAP 0.422 -> 0.353)", worse);
        Assert.Contains("keep the original model", worse);
        Assert.Null(AdaptationRun.WorseWarning(new AdaptScore(0.3, 0.4), new AdaptScore(0.3, 0.5), "cuhk03"));
        Assert.Null(AdaptationRun.WorseWarning(null, new AdaptScore(0.3, 0.5), "cuhk03"));
    }
}
