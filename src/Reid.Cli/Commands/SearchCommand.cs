using System.CommandLine;
using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Evaluation;
using Spectre.Console;
using static Reid.Cli.Commands.EmbeddingCommandSupport;

namespace Reid.Cli.Commands;

/// <summary>`reid search`: query image(s) against a folder of gallery images → the top-k most alike, no stored gallery.</summary>
internal static class SearchCommand
{
    public static Command Create()
    {
        var command = new Command("search", "Find the gallery images most like each query image (a folder of images, no stored gallery)");
        var queries = new Argument<string[]>("query") { Description = "Query image files or folders", Arity = ArgumentArity.OneOrMore };
        var galleryDir = new Option<string>("--gallery") { Description = "Folder of gallery images (searched recursively)", Required = true };
        var topK = new Option<int>("--top-k") { Description = "Matches listed per query", DefaultValueFactory = _ => 10 };
        var model = Model();
        var flip = Flip();
        var skipBad = SkipBad();
        var batch = Batch();
        var json = Json();
        command.Arguments.Add(queries);
        foreach (var o in new Option[] { galleryDir, topK, model, flip, skipBad, batch, json }) command.Options.Add(o);

        command.SetAction(p =>
        {
            var k = p.GetValue(topK);
            if (k < 1) throw new ReidException("--top-k must be at least 1");
            var dir = p.GetValue(galleryDir)!;
            if (!Directory.Exists(dir)) throw new ReidException($"gallery folder not found: {dir}");
            var queryRecords = ExtractCommand.UnlabelledImages(p.GetValue(queries)!);
            var galleryRecords = ExtractCommand.UnlabelledImages([dir]);
            if (queryRecords.Count == 0) throw new ReidException("no query images");
            if (galleryRecords.Count == 0) throw new ReidException($"{dir}: no gallery images (.jpg, .jpeg, .png)");

            var modelPath = ModelPath(p, model);
            using var embedder = OpenModel(modelPath, p.GetValue(flip), p.GetValue(batch));
            var run = EmbedWithProgress(embedder, [("query", queryRecords), ("gallery", galleryRecords)], p.GetValue(batch), p.GetValue(skipBad));
            var (q, g) = (run[0], run[1]);
            var distances = DistanceMatrix.Compute(q.Embeddings, g.Embeddings, DistanceKind.Cosine);

            var results = new JsonArray();
            for (var i = 0; i < q.Records.Count; i++)
            {
                var ranked = RankList.Rank(distances, i, _ => PairRelation.Negative, keep: k);
                var table = new Table().Title(q.Records[i].Path).AddColumn("rank").AddColumn("gallery image").AddColumn(new TableColumn("similarity").RightAligned());
                var matches = new JsonArray();
                var rank = 0;
                foreach (var m in ranked.Matches)
                {
                    var path = g.Records[m.GalleryIndex].Path;
                    var similarity = distances.Score(m.Distance);
                    table.AddRow((++rank).ToString(), Markup.Escape(path), $"{similarity:0.0000}");
                    matches.Add(new JsonObject { ["rank"] = rank, ["image"] = path, ["similarity"] = Math.Round(similarity, 6) });
                }
                AnsiConsole.Write(table);
                results.Add(new JsonObject { ["query"] = q.Records[i].Path, ["matches"] = matches });
            }
            if (p.GetValue(json) is { } jsonPath)
                EvaluationJson.Write(jsonPath, new JsonObject
                {
                    ["model"] = modelPath, ["model_id"] = embedder.ModelId, ["score"] = "cosine similarity",
                    ["gallery_images"] = g.Records.Count, ["bad_images"] = q.Bad.Count + g.Bad.Count, ["results"] = results,
                });
            return CliRunner.Ok;
        });
        return command;
    }
}
