using System.CommandLine;
using Reid.Core;
using Reid.Evaluation;
using Reid.Evaluation.Report;
using Reid.SpatialTemporal;
using Reid.Training.Trainer;
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
            var clock = new StageClock();
            var kind = p.GetValue(metric) == "euclidean" ? DistanceKind.Euclidean : DistanceKind.Cosine;
            var options = new EvaluationPipelineOptions { Metric = kind, ReRank = p.GetValue(rerank), TopK = p.GetValue(topK) };
            options.Validate();

            var recipe = p.GetValue(validationOf);
            if (recipe is null && p.GetValue(data.Root) is null)
                throw new ReidException("give the images to score on: --root (a data set folder or CSV file) or --validation-of (a training recipe)");
            if (recipe is not null && (p.GetValue(data.Root) is not null || p.GetValue(data.Split) is not null))
                throw new ReidException("--validation-of takes its images from the recipe's data section; drop --root and --split");
            var dataset = recipe is not null ? TrainingData.ValidationFold(recipe) : data.Load(p);
            if (p.GetValue(st) is { } stFile) options = options with { Stage = new SpatialTemporalStage(SpatialTemporalModel.Load(stFile)) };
            var modelPath = ModelPath(p, model);
            using var embedder = OpenModel(modelPath, p.GetValue(flip), p.GetValue(batch));
            options = options with { DeclaredThreshold = embedder.DeclaredThreshold?.Score };
            clock.Lap("load");
            var run = EvaluationPipeline.Run(dataset, lists => EmbedWithProgress(embedder, lists, p.GetValue(batch), p.GetValue(skipBad)), options, clock);
            foreach (var w in run.Warnings) Console.Error.WriteLine($"reid: warning: {w}");
            var (query, gallery, result) = (run.Query, run.Gallery, run.Result);

            PrintSummary(run);
            var settings = new List<KeyValuePair<string, string>>
            {
                new("model", modelPath), new("model id", embedder.ModelId), new("data set", dataset.Name),
                new("root", p.GetValue(data.Root) ?? "-"), new("split", p.GetValue(data.Split) ?? "-"),
                new("validation fold of", recipe ?? "-"),
                new("queries / gallery", $"{query.Records.Count:N0} / {gallery.Records.Count:N0}"),
                new("distance", kind.ToString().ToLowerInvariant()), new("re-ranking", p.GetValue(rerank) ? "k-reciprocal (20, 6, 0.3)" : "no"), new("spatial-temporal", p.GetValue(st) ?? "no"),
                new("flip", p.GetValue(flip) ? "yes" : "no"), new("unreadable images skipped", run.BadImages.ToString()),
            };
            if (p.GetValue(ranks) is { } ranksPath) RankListCsv.Write(ranksPath, result, query.Records, gallery.Records, p.GetValue(topK));
            if (p.GetValue(report) is { } reportDir)
            {
                var page = HtmlReport.Write(reportDir, result, query.Records, gallery.Records, new ReportOptions($"reid evaluate — {Path.GetFileName(modelPath)} on {dataset.Name}", settings));
                Console.Error.WriteLine($"report: {page}");
            }
            clock.Lap("outputs");
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
                j["bad_images"] = run.BadImages;
                if (run.OpenSetJson() is { } openSet) j["open_set"] = openSet;
                j["seconds"] = clock.Seconds;
                EvaluationJson.Write(jsonPath, j);
            }
            return CliRunner.Ok;
        });
        return command;
    }

    private static void PrintSummary(EvaluationRun run)
    {
        var r = run.Result;
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
        if (run.OpenSet is { } openSet)
        {
            Row("open set: enrolled / mated / non-mated", $"{openSet.EnrolledIdentities} / {openSet.MatedProbes} / {openSet.NonMatedProbes}");
            foreach (var (label, o) in run.OpenSetPoints) Row($"DIR, FPIR @ {label} ({o.Threshold:0.0000})", $"{o.Dir:0.0000}, {o.Fpir:0.0000}");
        }
        AnsiConsole.Write(table);
    }
}
