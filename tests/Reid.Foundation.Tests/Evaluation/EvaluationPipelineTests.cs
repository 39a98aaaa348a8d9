using Reid.Core;
using Reid.Data;
using Reid.Evaluation;
using Reid.TestSupport;

namespace Reid.Foundation.Tests.Evaluation;

/// <summary>
/// `reid evaluate`'s pipeline without a model: the mean-colour stand-in of <see cref="PipelineTests"/> embeds a tiny
/// Market-style folder, and a recording stage shows where a ranking stage (spatial-temporal fusion) plugs in.
/// </summary>
public class EvaluationPipelineTests
{
    private sealed class ReversingStage : IRankingStage
    {
        public List<bool> CalledWithReRankingInputs { get; } = [];
        public string Name => "reverse";

        // Best becomes worst: the ranking the stage returns must be the one scored.
        public StageRanking Rank(DistanceMatrix appearance, IReadOnlyList<ImageRecord> query, IReadOnlyList<ImageRecord> gallery,
                                 DistanceMatrix? queryQuery, DistanceMatrix? galleryGallery)
        {
            CalledWithReRankingInputs.Add(queryQuery is not null && galleryGallery is not null);
            return new StageRanking(new DistanceMatrix(appearance.Rows, appearance.Columns, appearance.Values.Select(v => -v).ToArray(), DistanceKind.Derived),
                                    ["camera 9 has no timestamps"]);
        }
    }

    private static EmbeddedImages[] Embed(IReadOnlyList<(string Name, IReadOnlyList<ImageRecord> Records)> lists) =>
        lists.Select(l => DatasetEmbedding.Run(l.Records, PipelineTests.MeanColour)).ToArray();

    [Fact]
    public void Scores_appearance_with_verification_open_set_and_a_lap_per_stage()
    {
        using var dir = new TempDir();
        var ds = Market1501Dataset.LoadFolder(PipelineTests.WriteMarketFolder(dir.Path));
        var clock = new StageClock();
        var run = EvaluationPipeline.Run(ds, Embed, new EvaluationPipelineOptions { DeclaredThreshold = 0.5 }, clock);

        Assert.Equal(4, run.Query.Records.Count);
        Assert.Equal(1.0, run.Result.Rank1);
        Assert.True(run.Result.Verification!.Auc > 0.9);
        Assert.NotNull(run.OpenSet);
        Assert.Equal("the model's threshold", run.OpenSetPoints[0].Label);
        Assert.Equal(run.OpenSet!.At(0.5), run.OpenSetPoints[0].Point);
        Assert.Equal(["embed", "distance", "evaluate"], clock.Seconds.Select(kv => kv.Key));
        Assert.Empty(run.Warnings);
        Assert.Equal(run.OpenSet.EnrolledIdentities, run.OpenSetJson()!["enrolled_identities"]!.GetValue<int>());
    }

    [Fact]
    public void A_stage_ranks_alone_or_with_re_ranking_while_verification_stays_on_appearance()
    {
        using var dir = new TempDir();
        var ds = Market1501Dataset.LoadFolder(PipelineTests.WriteMarketFolder(dir.Path));
        var plain = EvaluationPipeline.Run(ds, Embed, new EvaluationPipelineOptions(), new StageClock());

        var stage = new ReversingStage();
        var clock = new StageClock();
        var staged = EvaluationPipeline.Run(ds, Embed, new EvaluationPipelineOptions { Stage = stage }, clock);
        Assert.Equal([false], stage.CalledWithReRankingInputs);
        Assert.Contains("reverse", clock.Seconds.Select(kv => kv.Key));
        Assert.True(staged.Result.Rank1 < plain.Result.Rank1);
        Assert.Equal(plain.Result.Verification!.Auc, staged.Result.Verification!.Auc);
        Assert.Equal(["camera 9 has no timestamps"], staged.Warnings);

        var reRankClock = new StageClock();
        EvaluationPipeline.Run(ds, Embed, new EvaluationPipelineOptions { Stage = stage, ReRank = true }, reRankClock);
        Assert.Equal([false, true], stage.CalledWithReRankingInputs);
        Assert.Contains("rerank", reRankClock.Seconds.Select(kv => kv.Key));
    }

    [Fact]
    public void Refuses_a_bad_top_k_and_a_run_with_nothing_readable_left()
    {
        using var dir = new TempDir();
        var ds = Market1501Dataset.LoadFolder(PipelineTests.WriteMarketFolder(dir.Path));
        Assert.Throws<ReidException>(() => EvaluationPipeline.Run(ds, Embed, new EvaluationPipelineOptions { TopK = 0 }, new StageClock()));
        EmbeddedImages[] NothingLeft(IReadOnlyList<(string Name, IReadOnlyList<ImageRecord> Records)> lists) =>
            lists.Select(l => new EmbeddedImages([], [], [])).ToArray();
        var e = Assert.Throws<ReidException>(() => EvaluationPipeline.Run(ds, NothingLeft, new EvaluationPipelineOptions(), new StageClock()));
        Assert.Contains("no readable", e.Message);
    }

    [Fact]
    public void Euclidean_distances_have_no_open_set_figures()
    {
        using var dir = new TempDir();
        var ds = Market1501Dataset.LoadFolder(PipelineTests.WriteMarketFolder(dir.Path));
        var run = EvaluationPipeline.Run(ds, Embed, new EvaluationPipelineOptions { Metric = DistanceKind.Euclidean }, new StageClock());
        Assert.Null(run.OpenSet);
        Assert.Null(run.OpenSetJson());
        Assert.Empty(run.OpenSetPoints);
    }
}
