using System.Text.Json.Nodes;
using Reid.Data;
using Reid.Foundation.Tests.Evaluation;
using Reid.TestSupport;

namespace Reid.Foundation.Tests.Cli;

/// <summary>
/// `reid evaluate`, `reid extract` and `reid search` on synthetic data with a tiny ONNX model: most in this process
/// (<see cref="InProcess"/>), a few as a separate `reid` process, end to end.
/// </summary>
public sealed class CliCommandTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _model;
    private readonly string _market;

    public CliCommandTests()
    {
        _model = ReidProcess.WriteMeanColourModel(_dir.File("mean.onnx"));
        _market = PipelineTests.WriteMarketFolder(_dir.File("market"), people: 5);
    }

    public void Dispose() => _dir.Dispose();

    private static ReidCli.Outcome InProcess(params string[] args) => ReidCli.InProcess((stdout, stderr) => Reid.Cli.CliRunner.Run(args, stdout, stderr));

    [Fact]
    public void EvaluateWritesTheAgreedJson()
    {
        var json = _dir.File("out/result.json");
        var r = ReidCli.Run("evaluate", "--model", _model, "--dataset", "market1501", "--root", _market, "--json", json,
                                "--report", _dir.File("report"), "--ranks", _dir.File("ranks.csv"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var o = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        foreach (var key in new[] { "rank1", "rank5", "rank10", "map", "minp" })
        {
            var v = o[key]!.GetValue<double>();
            Assert.InRange(v, 0, 1);
        }
        Assert.Equal(5, o["valid_queries"]!.GetValue<int>());
        Assert.Equal(0, o["skipped_queries"]!.GetValue<int>());
        Assert.Equal(1.0, o["rank1"]!.GetValue<double>());
        Assert.True(File.Exists(_dir.File("report/index.html")));
        Assert.True(File.Exists(_dir.File("ranks.csv")));
        Assert.Contains("Rank-1", r.Stdout);
    }

    [Fact]
    public void EvaluateTakesASplitAndRerank()
    {
        var split = Directory.CreateDirectory(_dir.File("split")).FullName;
        var all = Directory.GetFiles(_market, "*.png", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_market, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        File.WriteAllLines(Path.Combine(split, "query.txt"), all.Where(f => f.StartsWith("query/")));
        File.WriteAllLines(Path.Combine(split, "gallery.txt"), all.Where(f => !f.StartsWith("query/")));
        var json = _dir.File("split.json");
        var r = InProcess("evaluate", "--model", _model, "--dataset", "market1501", "--root", _market, "--split", split,
                                "--rerank", "--flip", "--json", json);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var o = JsonNode.Parse(File.ReadAllText(json))!;
        Assert.Equal(5, o["valid_queries"]!.GetValue<int>());
        Assert.True(o["rerank"]!.GetValue<bool>());
        Assert.True(o["flip"]!.GetValue<bool>());
    }

    /// <summary>`reid adapt` and `reid pretrain` run from the command line on unlabelled crops, write a model and a card,
    /// and refuse a folder with too few crops with what they found.</summary>
    [SharedFact]
    public void Adapt_and_pretrain_run_on_unlabelled_crops_and_refuse_too_few()
    {
        var crops = _dir.File("crops");
        Directory.CreateDirectory(crops);
        foreach (var f in Directory.GetFiles(SharedData.Path("data", "cuhk03", "detected", "train")).Order(StringComparer.Ordinal).Take(80))
            File.Copy(f, Path.Combine(crops, Path.GetFileName(f)));
        var adapt = ReidCli.Run("adapt", "--model", SharedData.OsnetMsmt17, "--images", crops, "--out", _dir.File("adapted"), "--epochs", "1", "--steps", "2");
        Assert.True(adapt.ExitCode == 0, adapt.Stderr + adapt.Stdout);
        Assert.Contains("training epoch 1/1", adapt.Stdout);   // a plain progress line per phase when the output is a log
        Assert.True(File.Exists(_dir.File("adapted/model.onnx")) && File.Exists(_dir.File("adapted/MODEL_CARD.md")));
        var pretrain = ReidCli.Run("pretrain", "--images", crops, "--out", _dir.File("moco"), "--epochs", "1", "--steps", "2");
        Assert.True(pretrain.ExitCode == 0, pretrain.Stderr + pretrain.Stdout);
        Assert.True(File.Exists(_dir.File("moco/model.onnx")));

        var few = _dir.File("few");
        Directory.CreateDirectory(few);
        foreach (var f in Directory.GetFiles(crops).Take(5)) File.Copy(f, Path.Combine(few, Path.GetFileName(f)));
        foreach (var command in new[] { "adapt", "pretrain" })
        {
            var r = ReidCli.Run(command, "--images", few, "--out", _dir.File($"few-{command}"));
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("found 5 image(s)", r.Stderr);
        }
    }

    /// <summary>
    /// --validation-of scores on the fold a recipe validates on (holdout-v1's training identities, fold 1 of 5:
    /// 101 people, 431 queries, 1,213 gallery images), never on the split's own query/gallery.
    /// </summary>
    [SharedFact]
    public void EvaluateScoresOnARecipesValidationFold()
    {
        var recipe = Path.Combine(Core.ProjectPaths.RepoRoot!, "configs", "osnet_x0_25_finetune.yaml");
        var json = _dir.File("fold.json");
        var ranks = _dir.File("fold-ranks.csv");
        var r = ReidCli.Run("evaluate", "--model", _model, "--validation-of", recipe, "--json", json, "--ranks", ranks, "--top-k", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var o = JsonNode.Parse(File.ReadAllText(json))!;
        Assert.Equal(431, o["queries"]!.GetValue<int>());
        Assert.Equal(1213, o["gallery"]!.GetValue<int>());
        Assert.Contains("validation fold 1/5", o["dataset"]!.GetValue<string>());
        var train = File.ReadAllLines(Path.Combine(SharedData.HoldoutV1, "train.txt")).ToHashSet();
        var rows = File.ReadAllLines(ranks).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(431, rows.Count);
        Assert.All(rows, c => Assert.Contains(c[0], train));   // queries and gallery come from the training list,
        Assert.All(rows, c => Assert.Contains(c[4], train));   // never from the split's test query/gallery
        Assert.Equal(101, rows.Select(c => c[1]).Distinct().Count());   // every held-out person has queries

        var both = ReidCli.Run("evaluate", "--model", _model, "--validation-of", recipe, "--root", _market);
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("drop --root", both.Stderr);
        var everyIdentity = _dir.File("all.yaml");
        File.WriteAllText(everyIdentity, File.ReadAllText(recipe).Replace("folds: 5, fold: 0, seed: 0", "folds: 0"));
        var none = ReidCli.Run("evaluate", "--model", _model, "--validation-of", everyIdentity);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("no validation fold", none.Stderr);
    }

    [Fact]
    public void ABadImageIsAOneLineErrorOrACountedWarning()
    {
        var bad = Directory.GetFiles(Path.Combine(_market, "bounding_box_test")).Order(StringComparer.Ordinal).First();
        File.WriteAllBytes(bad, [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]);   // a JPEG cut short
        var r = InProcess("evaluate", "--model", _model, "--root", _market);
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("reid:"));
        Assert.Contains(Path.GetFileName(bad), line);

        var json = _dir.File("skip.json");
        r = InProcess("evaluate", "--model", _model, "--root", _market, "--skip-bad", "--json", json);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("skipped 1 unreadable image", r.Stderr);
        Assert.Equal(1, JsonNode.Parse(File.ReadAllText(json))!["bad_images"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(2, "evaluate", "--no-such-option")]
    [InlineData(2, "evaluate", "--metric", "manhattan", "--root", ".")]
    [InlineData(1, "evaluate", "--root", "/no/such/folder")]
    [InlineData(1, "evaluate")]                                   // neither --root nor --validation-of
    [InlineData(1, "search", "q.jpg", "--gallery", "/no/such/folder")]
    [InlineData(2, "extract")]
    public void ExitCodesFollowTheContract(int code, params string[] args)
    {
        var r = InProcess([.. args, "--model", _model]);
        Assert.True(code == r.ExitCode, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.StartsWith("reid:", r.Stderr.TrimStart());
    }

    [Fact]
    public void EvaluateReadsIdentityFoldersAndCsvWithQueriesPerIdentity()
    {
        var images = Directory.GetFiles(_market, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var folders = _dir.File("folders");
        var csv = new List<string> { "image,label,camera" };
        foreach (var f in images)
        {
            var name = Path.GetFileName(f);
            var person = name[..4];
            Directory.CreateDirectory(Path.Combine(folders, "p" + person));
            File.Copy(f, Path.Combine(folders, "p" + person, name));
            csv.Add($"{Path.GetRelativePath(_market, f)},p{person},{name[6]}");
        }
        File.WriteAllLines(Path.Combine(_market, "labels.csv"), csv);

        foreach (var (kind, root) in new[] { ("folders", folders), ("csv", Path.Combine(_market, "labels.csv")) })
        {
            var json = _dir.File($"{kind}.json");
            var r = InProcess("evaluate", "--model", _model, "--dataset", kind, "--root", root, "--query-per-id", "1", "--seed", "3", "--json", json);
            Assert.True(r.ExitCode == 0, r.Stderr);
            var o = JsonNode.Parse(File.ReadAllText(json))!;
            Assert.Equal(5, o["queries"]!.GetValue<int>());
            Assert.Equal(10, o["gallery"]!.GetValue<int>());
            Assert.Equal(5, o["valid_queries"]!.GetValue<int>() + o["skipped_queries"]!.GetValue<int>());
        }
        var missing = InProcess("evaluate", "--model", _model, "--dataset", "folders", "--root", folders);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("--query-per-id", missing.Stderr);
    }

    [Fact]
    public void AnInProcessRunCapturesHelpOnStdoutAndLeavesTheConsoleAsItWas()
    {
        var console = Console.Out;
        var help = InProcess("--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("evaluate", help.Stdout);
        Assert.Contains("gallery", help.Stdout);
        Assert.Equal("", help.Stderr);
        Assert.Same(console, Console.Out);
    }

    [Fact]
    public void MissingModelNamesIt()
    {
        var r = InProcess("evaluate", "--model", _dir.File("nope.onnx"), "--root", _market);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("nope.onnx", r.Stderr);
    }

    [Fact]
    public void ExtractWritesAReadableEmbeddingsFileAndSearchFindsTheSamePerson()
    {
        var emb = _dir.File("e/all.emb");
        var r = InProcess("extract", "--model", _model, "--root", _market, "--out", emb);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var contents = EmbeddingFile.Read(emb);
        Assert.Equal(15, contents.Records.Count);
        Assert.All(contents.Embeddings, e => Assert.Equal(1.0, Math.Sqrt(e.Sum(x => (double)x * x)), 4));
        Assert.Equal(5, contents.Records.Select(x => x.PersonId).Distinct().Count());

        var query = Directory.GetFiles(Path.Combine(_market, "query")).Order(StringComparer.Ordinal).First();
        var json = _dir.File("search.json");
        r = InProcess("search", query, "--gallery", Path.Combine(_market, "bounding_box_test"), "--model", _model, "--top-k", "3", "--json", json);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var matches = JsonNode.Parse(File.ReadAllText(json))!["results"]![0]!["matches"]!.AsArray();
        Assert.Equal(3, matches.Count);
        var person = Path.GetFileName(query)[..4];
        Assert.StartsWith(person, Path.GetFileName(matches[0]!["image"]!.GetValue<string>()));
    }
}
