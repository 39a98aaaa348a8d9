using System.Diagnostics;
using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Data;

namespace Reid.Evaluation;

/// <summary>
/// A stage that replaces the appearance distances before ranking, given the images' records (travel times, in
/// Reid.SpatialTemporal). It lives above this library, so the pipeline knows it only through this interface.
/// With <paramref name="queryQuery"/> and <paramref name="galleryGallery"/> it also re-ranks, in whatever order the
/// stage needs (fusion before re-ranking, as ST-ReID does).
/// </summary>
public interface IRankingStage
{
    /// <summary>The stage's key in the timings (e.g. "st"); with re-ranking the lap is "rerank".</summary>
    string Name { get; }

    StageRanking Rank(DistanceMatrix appearance, IReadOnlyList<ImageRecord> query, IReadOnlyList<ImageRecord> gallery,
                      DistanceMatrix? queryQuery, DistanceMatrix? galleryGallery);
}

/// <summary>What a ranking stage returns: the distances that rank, and what the caller should be warned about.</summary>
public sealed record StageRanking(DistanceMatrix Distances, IReadOnlyList<string> Warnings);

public sealed record EvaluationPipelineOptions
{
    public DistanceKind Metric { get; init; } = DistanceKind.Cosine;
    /// <summary>k-reciprocal re-ranking (Zhong et al. 2017; k1=20, k2=6, λ=0.3).</summary>
    public bool ReRank { get; init; }
    public IRankingStage? Stage { get; init; }
    /// <summary>Ranked gallery images kept per query (rank-list CSV, report).</summary>
    public int TopK { get; init; } = 50;
    /// <summary>The score the model declares as its decision threshold: open-set figures are given there too.</summary>
    public double? DeclaredThreshold { get; init; }

    public void Validate()
    {
        if (TopK < 1) throw new ReidException("--top-k must be at least 1");
    }
}

/// <summary>Seconds per named stage, in the order they ran (the `seconds` object of `reid evaluate --json`).</summary>
public sealed class StageClock
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    public JsonObject Seconds { get; } = new();

    /// <summary>Records the time since the previous lap (or the start) under <paramref name="stage"/>.</summary>
    public void Lap(string stage)
    {
        Seconds[stage] = Math.Round(_clock.Elapsed.TotalSeconds, 3);
        _clock.Restart();
    }
}

/// <summary>An open-set operating point with what it was chosen by ("the model's threshold", "FPIR 1e-1").</summary>
public sealed record LabelledOpenSetPoint(string Label, OpenSetPoint Point);

/// <summary>The outcome of <see cref="EvaluationPipeline.Run"/>: the embedded images and every figure.</summary>
public sealed record EvaluationRun(
    EmbeddedImages Query,
    EmbeddedImages Gallery,
    EvaluationResult Result,
    OpenSetResult? OpenSet,
    IReadOnlyList<LabelledOpenSetPoint> OpenSetPoints,
    IReadOnlyList<string> Warnings)
{
    public int BadImages => Query.Bad.Count + Gallery.Bad.Count;

    /// <summary>The `open_set` object of the JSON output; null without open-set figures.</summary>
    public JsonObject? OpenSetJson() => OpenSet is not { } o ? null : new JsonObject
    {
        ["enrolled_identities"] = o.EnrolledIdentities, ["mated_probes"] = o.MatedProbes, ["non_mated_probes"] = o.NonMatedProbes,
        ["points"] = new JsonArray(OpenSetPoints.Select(p => (JsonNode)new JsonObject
        {
            ["at"] = p.Label, ["threshold"] = p.Point.Threshold, ["fpir"] = p.Point.Fpir, ["dir"] = p.Point.Dir,
        }).ToArray()),
    };
}

/// <summary>
/// `reid evaluate`'s pipeline: embeds a data set's query and gallery, ranks the gallery for each query (appearance,
/// then the optional stage and re-ranking) and scores it with the Market-1501 protocol, verification and open-set
/// identification. How images are embedded (model, batches, progress display) is the caller's.
/// </summary>
public static class EvaluationPipeline
{
    public static EvaluationRun Run(ReidDataset dataset,
        Func<IReadOnlyList<(string Name, IReadOnlyList<ImageRecord> Records)>, EmbeddedImages[]> embed,
        EvaluationPipelineOptions options, StageClock clock)
    {
        options.Validate();
        var embedded = embed([("query", dataset.Query), ("gallery", dataset.Gallery)]);
        var (query, gallery) = (embedded[0], embedded[1]);
        if (query.Records.Count == 0 || gallery.Records.Count == 0) throw new ReidException("no readable query or gallery images left");
        clock.Lap("embed");

        var kind = options.Metric;
        var appearance = DistanceMatrix.Compute(query.Embeddings, gallery.Embeddings, kind);
        clock.Lap("distance");
        var warnings = new List<string>();
        var ranking = appearance;
        if (options.ReRank)
        {
            var qq = DistanceMatrix.Compute(query.Embeddings, query.Embeddings, kind);
            var gg = DistanceMatrix.Compute(gallery.Embeddings, gallery.Embeddings, kind);
            ranking = options.Stage is { } stage ? Take(stage.Rank(ranking, query.Records, gallery.Records, qq, gg), warnings) : ReRanker.Apply(ranking, qq, gg);
            clock.Lap("rerank");
        }
        else if (options.Stage is { } stage)
        {
            ranking = Take(stage.Rank(ranking, query.Records, gallery.Records, null, null), warnings);
            clock.Lap(stage.Name);
        }

        // Verification thresholds must hold for one pair on its own, so they come from the appearance distance.
        var result = Evaluator.Evaluate(ranking, query.Records, gallery.Records, new EvaluationOptions(TopK: options.TopK, Verification: false))
            with { Verification = Verification.Compute(appearance, query.Records, gallery.Records) };
        // Open-set identification (ISO/IEC 19795-1): half the gallery's people enrolled, every query a probe; at the
        // threshold the model declares and at the thresholds that hold the false-positive identification rate.
        var openSet = kind == DistanceKind.Cosine ? OpenSetIdentification.Compute(appearance, query.Records, gallery.Records) : null;
        var points = openSet is null ? [] : OpenSetPoints(openSet, options.DeclaredThreshold);
        clock.Lap("evaluate");
        return new EvaluationRun(query, gallery, result, openSet, points, warnings);
    }

    private static DistanceMatrix Take(StageRanking r, List<string> warnings)
    {
        warnings.AddRange(r.Warnings);
        return r.Distances;
    }

    private static List<LabelledOpenSetPoint> OpenSetPoints(OpenSetResult r, double? declared)
    {
        var points = new List<LabelledOpenSetPoint>();
        if (declared is { } t) points.Add(new("the model's threshold", r.At(t)));
        foreach (var target in new[] { 1e-1, 1e-2 })
            if (r.AtFpir(target) is { } p && double.IsFinite(p.Threshold)) points.Add(new($"FPIR {target:0e0}", p));
        return points;
    }
}
