using System.CommandLine;
using Reid.Data;
using Reid.Evaluation;
using Reid.Imaging;
using Reid.Inference;
using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>
/// What `reid extract`, `reid evaluate` and `reid search` share: the model options, the data-set options, and
/// embedding a list of images with a progress bar on stderr (stdout stays clean for results).
/// </summary>
internal static class EmbeddingCommandSupport
{
    public static Option<string?> Model() => new("--model")
    {
        Description = "ONNX ReID model (default: the project's shipped model, else ../shared's OSNet x0.25 MSMT17)",
    };

    /// <summary>The --model path, or the default model (resolved only now, so --help works without one).</summary>
    public static string ModelPath(ParseResult p, Option<string?> model) => p.GetValue(model) ?? ProjectModels.DefaultReidModel;
    public static Option<bool> Flip() => new("--flip") { Description = "Flip test-time augmentation: mean of the image's and its mirror's embedding" };
    public static Option<bool> SkipBad() => new("--skip-bad") { Description = "Skip unreadable images with a counted warning instead of failing" };
    public static Option<int> Batch() => new("--batch") { Description = "Images per model run", DefaultValueFactory = _ => 32 };
    public static Option<string?> Json() => new("--json") { Description = "Also write the figures to this JSON file" };

    /// <summary>The data-set options: --dataset, --root, --split, --query-per-id, --seed.</summary>
    public sealed class DatasetOptions(bool rootRequired)
    {
        public Option<string> Kind { get; } = new("--dataset") { Description = "market1501 | cuhk03 | folders | csv", DefaultValueFactory = _ => "market1501" };
        public Option<string> Root { get; } = new("--root") { Description = "Data set folder (for csv: the CSV file); without --split a standard Market-1501 folder (query/, bounding_box_test/)", Required = rootRequired };
        public Option<string?> Split { get; } = new("--split") { Description = "Folder with query.txt and gallery.txt (names relative to --root)" };
        public Option<int> QueryPerId { get; } = new("--query-per-id") { Description = "folders/csv without --split: queries drawn per identity" };
        public Option<int> Seed { get; } = new("--seed") { Description = "Seed for --query-per-id", DefaultValueFactory = _ => 0 };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Kind, Root, Split, QueryPerId, Seed }) c.Options.Add(o);
        }

        public ReidDataset Load(ParseResult p)
        {
            var root = p.GetValue(Root) ?? throw new Core.ReidException("--root is required: the data set's folder (or CSV file)");
            return DatasetLoader.Load(new DatasetSpec(DatasetLoader.ParseKind(p.GetValue(Kind)!), root, p.GetValue(Split),
                                                      p.GetValue(QueryPerId), p.GetValue(Seed)));
        }
    }

    /// <summary>Progress on stderr. Made on each use, not once, so it follows Console.Error when CliRunner redirects it to an in-process run's writer.</summary>
    public static IAnsiConsole Stderr => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    public static Embedder OpenModel(string path, bool flip, int batch)
    {
        if (!File.Exists(path)) throw new Core.ReidException($"model not found: {path}");
        if (batch < 1) throw new Core.ReidException("--batch must be at least 1");
        return Embedder.Open(path, new EmbedderOptions(BatchSize: batch, FlipTta: flip));
    }

    /// <summary>Embeds each named list in turn, one progress bar per list; unreadable images abort or are counted.</summary>
    public static EmbeddedImages[] EmbedWithProgress(Embedder embedder, IReadOnlyList<(string Name, IReadOnlyList<ImageRecord> Records)> lists,
                                                     int batch, bool skipBad)
    {
        var results = new EmbeddedImages[lists.Count];
        Stderr.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = lists.Select(l => ctx.AddTask($"embed {l.Name} ({l.Records.Count:N0})", maxValue: Math.Max(1, l.Records.Count))).ToArray();
                for (var i = 0; i < lists.Count; i++)
                {
                    var task = tasks[i];
                    results[i] = DatasetEmbedding.Run(lists[i].Records, embedder.Embed, batch, skipBad, done => task.Value = done);
                    task.Value = task.MaxValue;
                }
            });
        var bad = results.SelectMany(r => r.Bad).ToList();
        if (bad.Count > 0)
            Console.Error.WriteLine($"reid: warning: skipped {bad.Count} unreadable image(s) (--skip-bad); first: {OneLine(bad[0].Message)}");
        return results;
    }

    public static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
