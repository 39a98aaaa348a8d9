using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Data;
using Reid.Evaluation;
using static Reid.Cli.Commands.EmbeddingCommandSupport;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid extract`: images (files, folders, or a data set's lists) → an embeddings file (see Reid.Data's
/// EmbeddingFile: NAME.emb with a 24-byte header and float32 rows, NAME.emb.json listing the images).
/// </summary>
internal static class ExtractCommand
{
    public static Command Create()
    {
        var command = new Command("extract", "Embed images into an embeddings file (NAME.emb + NAME.emb.json)");
        var images = new Argument<string[]>("images") { Description = "Image files or folders (searched recursively); or use --root", Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<string>("--out") { Description = "Embeddings file to write (NAME.emb; the image list goes to NAME.emb.json)", Required = true };
        var part = new Option<string>("--part") { Description = "With --root: which lists to embed", DefaultValueFactory = _ => "all" };
        part.AcceptOnlyFromAmong("all", "query", "gallery", "train");
        var model = Model();
        var data = new DatasetOptions(rootRequired: false);
        var flip = Flip();
        var skipBad = SkipBad();
        var batch = Batch();
        var json = Json();
        command.Arguments.Add(images);
        data.AddTo(command);
        foreach (var o in new Option[] { output, part, model, flip, skipBad, batch, json }) command.Options.Add(o);

        command.SetAction(p =>
        {
            var records = Collect(p, p.GetValue(images) ?? [], data, p.GetValue(part)!);
            if (records.Count == 0) throw new ReidException("no images to embed");
            var clock = Stopwatch.StartNew();
            var modelPath = ModelPath(p, model);
            using var embedder = OpenModel(modelPath, p.GetValue(flip), p.GetValue(batch));
            var run = EmbedWithProgress(embedder, [("images", records)], p.GetValue(batch), p.GetValue(skipBad))[0];
            var seconds = clock.Elapsed.TotalSeconds;
            var outPath = p.GetValue(output)!;
            EmbeddingFile.Write(outPath, run.Records, run.Embeddings, new EmbeddingMetadata(modelPath, embedder.ModelId, p.GetValue(flip)));
            Console.WriteLine($"{run.Records.Count:N0} embeddings of dimension {embedder.Dimension} → {outPath} (+ {Path.GetFileName(EmbeddingFile.SidecarPath(outPath))}), {run.Records.Count / seconds:0.0} images/s");
            if (p.GetValue(json) is { } jsonPath)
                EvaluationJson.Write(jsonPath, new JsonObject
                {
                    ["images"] = run.Records.Count, ["bad_images"] = run.Bad.Count, ["dimension"] = embedder.Dimension,
                    ["model"] = modelPath, ["model_id"] = embedder.ModelId, ["flip"] = p.GetValue(flip),
                    ["seconds"] = Math.Round(seconds, 3), ["images_per_second"] = Math.Round(run.Records.Count / seconds, 2),
                });
            return CliRunner.Ok;
        });
        return command;
    }

    private static IReadOnlyList<ImageRecord> Collect(ParseResult p, string[] paths, DatasetOptions data, string part)
    {
        if (p.GetValue(data.Root) is not null)
        {
            if (paths.Length > 0) throw new ReidException("give image paths or --root, not both");
            var ds = data.Load(p);
            IEnumerable<ImageRecord> chosen = part switch
            {
                "query" => ds.Query,
                "gallery" => ds.Gallery,
                "train" => ds.Train ?? throw new ReidException($"{ds.Name} has no training list"),
                _ => ds.Query.Concat(ds.Gallery).Concat(ds.Train ?? []),
            };
            return chosen.DistinctBy(r => r.Path).ToList();
        }
        return UnlabelledImages(paths);
    }

    /// <summary>Files as given and image files under folders; no labels (person id 0, no camera).</summary>
    public static IReadOnlyList<ImageRecord> UnlabelledImages(IEnumerable<string> paths)
    {
        var records = new List<ImageRecord>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path)) records.AddRange(ImageFiles.List(path, recursive: true).Select(f => new ImageRecord(f, 0, null)));
            else if (File.Exists(path)) records.Add(new ImageRecord(path, 0, null));
            else throw new ReidException($"no such file or folder: {path}");
        }
        return records;
    }
}
