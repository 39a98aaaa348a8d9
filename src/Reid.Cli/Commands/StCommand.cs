using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Evaluation;
using Reid.SpatialTemporal;
using Spectre.Console;
using static Reid.Cli.Commands.EmbeddingCommandSupport;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid st learn`: learns a spatial-temporal model (camera-pair travel times, fusion parameters fitted by
/// cross-validation over training identities) from a data set's training list; `reid evaluate --st FILE` uses it.
/// </summary>
internal static class StCommand
{
    public static Command Create()
    {
        var st = new Command("st", "Spatial-temporal re-identification: camera-pair travel times fused with appearance");
        st.Subcommands.Add(Learn());
        return st;
    }

    private static Command Learn()
    {
        var command = new Command("learn", "Learn travel times from the training list and fit the fusion on training identities only");
        var model = Model();
        var data = new DatasetOptions(rootRequired: true);
        var output = new Option<string>("--out") { Description = "Where to write the model (JSON)", Required = true };
        var folds = new Option<int>("--folds") { Description = "Cross-validation folds over the training identities", DefaultValueFactory = _ => 3 };
        var foldSeed = new Option<int>("--fold-seed") { Description = "Seed that deals identities into folds", DefaultValueFactory = _ => 1 };
        var flip = Flip();
        var json = Json();
        var skipBad = SkipBad();
        var batch = Batch();
        command.Options.Add(model);
        data.AddTo(command);
        foreach (var o in new Option[] { output, folds, foldSeed, flip, json, skipBad, batch }) command.Options.Add(o);
        command.SetAction(p =>
        {
            var dataset = data.Load(p);
            var train = dataset.Train ?? throw new ReidException($"{dataset.Name} has no training list: give --split with a train.txt (travel times are learned from training identities only)");
            var modelPath = ModelPath(p, model);
            using var embedder = OpenModel(modelPath, p.GetValue(flip), p.GetValue(batch));
            var embedded = EmbedWithProgress(embedder, [("train", train)], p.GetValue(batch), p.GetValue(skipBad))[0];

            FusionFit fit = null!;
            Stderr.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("fit fusion (cross-validation)", maxValue: 1);
                    fit = FusionFitter.Fit(embedded.Records, embedded.Embeddings, folding: new FoldOptions(p.GetValue(folds), p.GetValue(foldSeed)),
                                           progress: new Progress<double>(v => task.Value = v));
                    task.Value = 1;
                });
            var learned = RecordSightings.Learn(embedded.Records, new SpatialTemporalOptions { SmoothingSeconds = fit.SmoothingSeconds }, fit.Fusion);
            var outPath = p.GetValue(output)!;
            learned.Save(outPath);

            var table = new Table().AddColumn("").AddColumn(new TableColumn("value").RightAligned());
            table.AddRow("training identities / images", $"{learned.Identities:N0} / {embedded.Records.Count:N0}");
            table.AddRow("camera pairs learned", $"{learned.Pairs.Count}");
            table.AddRow("smoothing σ (s)", Inv($"{fit.SmoothingSeconds}"));
            table.AddRow("λ0 γ0 λ1 γ1", Inv($"{fit.Fusion.Lambda0} {fit.Fusion.Gamma0} {fit.Fusion.Lambda1} {fit.Fusion.Gamma1}"));
            table.AddRow($"validation ({fit.Folds} folds) appearance R1 / mAP", Inv($"{fit.Appearance.Rank1:0.0000} / {fit.Appearance.MeanAP:0.0000}"));
            table.AddRow($"validation ({fit.Folds} folds) fused R1 / mAP", Inv($"{fit.Fused.Rank1:0.0000} / {fit.Fused.MeanAP:0.0000}"));
            if (learned.Clock is { } clock)
                foreach (var s in clock.Sequences.Where(s => s.AlignmentSeconds != 0).OrderBy(s => s.Camera, StringComparer.Ordinal).ThenBy(s => s.Sequence))
                    table.AddRow($"camera {s.Camera} sequence {s.Sequence} starts later than concatenated by", Inv($"{s.AlignmentSeconds:0} s"));
            AnsiConsole.Write(table);
            Console.Error.WriteLine($"spatial-temporal model: {outPath}");
            if (p.GetValue(json) is { } jsonPath)
            {
                var j = new JsonObject
                {
                    ["model"] = modelPath, ["model_id"] = embedder.ModelId, ["dataset"] = dataset.Name, ["out"] = outPath,
                    ["identities"] = learned.Identities, ["images"] = embedded.Records.Count, ["camera_pairs"] = learned.Pairs.Count,
                    ["fit"] = JsonSerializer.SerializeToNode(fit, ReidJson.Options),
                };
                EvaluationJson.Write(jsonPath, j);
            }
            return CliRunner.Ok;
        });
        return command;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
