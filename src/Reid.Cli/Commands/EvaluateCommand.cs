using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Data;
using Reid.Evaluation;
using Reid.Evaluation.Report;
using Spectre.Console;
using static Reid.Cli.Commands.EmbeddingCommandSupport;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid evaluate`: embeds a data set's query and gallery images, ranks the gallery for each query and scores
/// it with the Market-1501 protocol (CMC, mAP, mINP, verification), optionally re-ranked, with JSON, top-k CSV
/// and an HTML report. With --validation-of it scores on a training recipe's validation fold instead, so inference
/// options (flip, re-ranking) are chosen on the same held-out identities as the recipe, never on the test set.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var command = new Command("evaluate", "Score a ReID model on a data set with the Market-1501 protocol (CMC, mAP, mINP, ROC)");
        var model = Model();
        var data = new DatasetOptions(rootRequired: false);
        var validationOf = new Option<string?>("--validation-of")
        {
            Description = "Score on this training recipe's validation fold (its data, folds, fold and seed) instead of --root/--split",
        };
        var st = new Option<string?>("--st") { Description = "Fuse with a spatial-temporal model (from `reid st learn`) before ranking and re-ranking" };
        var rerank = new Option<bool>("--rerank") { Description = "k-reciprocal re-ranking (Zhong et al. 2017; k1=20, k2=6, lambda=0.3)" };
        var flip = Flip();
        var metric = new Option<string>("--metric") { Description = "cosine | euclidean", DefaultValueFactory = _ => "cosine" };
        metric.AcceptOnlyFromAmong("cosine", "euclidean");
        var json = Json();
        var report = new Option<string?>("--report") { Description = "Write a self-contained HTML report into this folder" };
        var ranks = new Option<string?>("--ranks") { Description = "Write each query's top-k gallery images as CSV" };
        var topK = new Option<int>("--top-k") { Description = "Ranked gallery images kept per query (--ranks, report)", DefaultValueFactory = _ => 50 };
        var skipBad = SkipBad();
        var batch = Batch();
        command.Options.Add(model);
        data.AddTo(command);
        foreach (var o in new Option[] { validationOf, st, rerank, flip, metric, json, report, ranks, topK, skipBad, batch }) command.Options.Add(o);

        command.SetAction(p =>
        {
            var clock = Stopwatch.StartNew();
            var seconds = new JsonObject();
            void Lap(string what) { seconds[what] = Math.Round(clock.Elapsed.TotalSeconds, 3); clock.Restart(); }
            if (p.GetValue(topK) < 1) throw new ReidException("--top-k must be at least 1");

            var recipe = p.GetValue(validationOf);
            if (recipe is null && p.GetValue(data.Root) is null)
                throw new ReidException("give the images to score on: --root (a data set folder or CSV file) or --validation-of (a training recipe)");
            var dataset = recipe is not null ? ValidationFold(recipe, p, data) : data.Load(p);
            var stModel = p.GetValue(st) is { } stFile ? SpatialTemporal.SpatialTemporalModel.Load(stFile) : null;
            var modelPath = ModelPath(p, model);
            using var embedder = OpenModel(modelPath, p.GetValue(flip), p.GetValue(batch));
            Lap("load");
            var embedded = EmbedWithProgress(embedder, [("query", dataset.Query), ("gallery", dataset.Gallery)], p.GetValue(batch), p.GetValue(skipBad));
            var (query, gallery) = (embedded[0], embedded[1]);
            if (query.Records.Count == 0 || gallery.Records.Count == 0) throw new ReidException("no readable query or gallery images left");
            Lap("embed");

            var kind = p.GetValue(metric) == "euclidean" ? DistanceKind.Euclidean : DistanceKind.Cosine;
            var appearance = DistanceMatrix.Compute(query.Embeddings, gallery.Embeddings, kind);
            Lap("distance");
            // The matrix that ranks: appearance, then each optional stage in turn (spatial-temporal fusion slots in here).
            var ranking = appearance;
            if (p.GetValue(rerank))
            {
                var qq = DistanceMatrix.Compute(query.Embeddings, query.Embeddings, kind);
                var gg = DistanceMatrix.Compute(gallery.Embeddings, gallery.Embeddings, kind);
                ranking = stModel is not null ? StCommand.Rank(stModel, ranking, query.Records, gallery.Records, qq, gg) : ReRanker.Apply(ranking, qq, gg);
                Lap("rerank");
            }
            else if (stModel is not null)
            {
                ranking = StCommand.Rank(stModel, ranking, query.Records, gallery.Records, null, null);
                Lap("st");
            }

            var options = new EvaluationOptions(TopK: p.GetValue(topK), Verification: false);
            // Verification thresholds must hold for one pair on its own, so they come from the appearance distance.
            var result = Evaluator.Evaluate(ranking, query.Records, gallery.Records, options)
                with { Verification = Verification.Compute(appearance, query.Records, gallery.Records) };
            // Open-set identification (ISO/IEC 19795-1): half the gallery's people enrolled, every query a probe; at the
            // threshold the model declares and at the thresholds that hold the false-positive identification rate.
            var openSet = kind == DistanceKind.Cosine ? OpenSetIdentification.Compute(appearance, query.Records, gallery.Records) : null;
            var openPoints = openSet is null ? new List<(string Label, OpenSetPoint Point)>() : OpenSetPoints(openSet, embedder.DeclaredThreshold?.Score);
            Lap("evaluate");

            PrintSummary(result, openSet, openPoints);
            var settings = new List<KeyValuePair<string, string>>
            {
                new("model", modelPath), new("model id", embedder.ModelId), new("data set", dataset.Name),
                new("root", p.GetValue(data.Root) ?? "-"), new("split", p.GetValue(data.Split) ?? "-"),
                new("validation fold of", recipe ?? "-"),
                new("queries / gallery", $"{query.Records.Count:N0} / {gallery.Records.Count:N0}"),
                new("distance", kind.ToString().ToLowerInvariant()), new("re-ranking", p.GetValue(rerank) ? "k-reciprocal (20, 6, 0.3)" : "no"), new("spatial-temporal", p.GetValue(st) ?? "no"),
                new("flip", p.GetValue(flip) ? "yes" : "no"), new("unreadable images skipped", (query.Bad.Count + gallery.Bad.Count).ToString()),
            };
            if (p.GetValue(ranks) is { } ranksPath) RankListCsv.Write(ranksPath, result, query.Records, gallery.Records, p.GetValue(topK));
            if (p.GetValue(report) is { } reportDir)
            {
                var page = HtmlReport.Write(reportDir, result, query.Records, gallery.Records, new ReportOptions($"reid evaluate — {Path.GetFileName(modelPath)} on {dataset.Name}", settings));
                Console.Error.WriteLine($"report: {page}");
            }
            Lap("outputs");
            if (p.GetValue(json) is { } jsonPath)
            {
                var j = EvaluationJson.ToJson(result);
                j["model"] = modelPath;
                j["model_id"] = embedder.ModelId;
                j["dataset"] = dataset.Name;
                j["queries"] = query.Records.Count;
                j["gallery"] = gallery.Records.Count;
                j["rerank"] = p.GetValue(rerank);
                j["st"] = p.GetValue(st);
                j["flip"] = p.GetValue(flip);
                j["bad_images"] = query.Bad.Count + gallery.Bad.Count;
                if (openSet is not null)
                    j["open_set"] = new JsonObject
                    {
                        ["enrolled_identities"] = openSet.EnrolledIdentities, ["mated_probes"] = openSet.MatedProbes, ["non_mated_probes"] = openSet.NonMatedProbes,
                        ["points"] = new JsonArray(openPoints.Select(o => (JsonNode)new JsonObject
                        {
                            ["at"] = o.Label, ["threshold"] = o.Point.Threshold, ["fpir"] = o.Point.Fpir, ["dir"] = o.Point.Dir,
                        }).ToArray()),
                    };
                j["seconds"] = seconds;
                EvaluationJson.Write(jsonPath, j);
            }
            return CliRunner.Ok;
        });
        return command;
    }

    /// <summary>The query and gallery a recipe's run scores itself on: its held-out fold of the training identities.</summary>
    private static ReidDataset ValidationFold(string recipe, ParseResult p, DatasetOptions data)
    {
        if (p.GetValue(data.Root) is not null || p.GetValue(data.Split) is not null)
            throw new ReidException("--validation-of takes its images from the recipe's data section; drop --root and --split");
        var config = Training.Config.ExperimentConfigLoader.Load(recipe);
        var v = config.Data.Validation;
        if (v.Folds == 0)
            throw new ReidException($"{recipe} trains on every identity (data.validation.folds: 0), so it has no validation fold to score on");
        var fold = Training.Trainer.TrainingData.Load(config.Data);
        return new ReidDataset($"{config.Name}: validation fold {v.Fold + 1}/{v.Folds} of {config.Data.Dataset.ToString().ToLowerInvariant()}", fold.EvaluationQuery, fold.EvaluationGallery);
    }

    private static List<(string Label, OpenSetPoint Point)> OpenSetPoints(OpenSetResult r, double? declared)
    {
        var points = new List<(string, OpenSetPoint)>();
        if (declared is { } t) points.Add(("the model's threshold", r.At(t)));
        foreach (var target in new[] { 1e-1, 1e-2 })
            if (r.AtFpir(target) is { } p && double.IsFinite(p.Threshold)) points.Add(($"FPIR {target:0e0}", p));
        return points;
    }

    private static void PrintSummary(EvaluationResult r, OpenSetResult? openSet, List<(string Label, OpenSetPoint Point)> openPoints)
    {
        var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        void Row(string k, string v) => table.AddRow(k, v);
        Row("Rank-1", $"{r.Rank1:0.0000}"); Row("Rank-5", $"{r.Rank5:0.0000}"); Row("Rank-10", $"{r.Rank10:0.0000}");
        Row("mAP", $"{r.MeanAP:0.0000}"); Row("mINP", $"{r.MeanInp:0.0000}");
        Row("valid queries", $"{r.ValidQueries}"); Row("skipped queries", $"{r.SkippedQueries}");
        if (r.Verification is { } v)
        {
            Row("ROC AUC", $"{v.Auc:0.0000}");
            foreach (var op in v.OperatingPoints) Row($"TAR @ FAR {op.TargetFar:0e0} (threshold)", $"{op.Tar:0.0000} ({op.Threshold:0.0000})");
        }
        if (openSet is not null)
        {
            Row("open set: enrolled / mated / non-mated", $"{openSet.EnrolledIdentities} / {openSet.MatedProbes} / {openSet.NonMatedProbes}");
            foreach (var (label, o) in openPoints) Row($"DIR, FPIR @ {label} ({o.Threshold:0.0000})", $"{o.Dir:0.0000}, {o.Fpir:0.0000}");
        }
        AnsiConsole.Write(table);
    }
}
