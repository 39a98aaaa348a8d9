using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Data;
using Reid.Evaluation;
using Reid.Gallery;
using Reid.Gallery.Video;
using Reid.Inference;
using Reid.SpatialTemporal;
using Reid.Video.CrossCamera;
using Spectre.Console;
using static Reid.Cli.Commands.EmbeddingCommandSupport;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid replay`: replays a labelled Market-style camera network through the online associator of `reid watch`
/// (<see cref="NetworkReplay"/>) and scores its global identities against the true ones (<see cref="ReplayScoring"/>).
/// </summary>
internal static class ReplayCommand
{
    private static readonly string[] Lists = ["train", "query", "gallery"];

    public static Command Create()
    {
        var command = new Command("replay",
            "Replay a labelled camera network (each person, camera and sequence one track, in time order) through reid watch's online associator, over an empty gallery, and score its identities");
        var dataset = new Option<string>("--dataset") { Description = "Only market1501-style names (PPPP_cCsS_FFFFFF_BB.jpg) carry camera, sequence and frame", DefaultValueFactory = _ => "market1501" };
        var root = new Option<string>("--root") { Description = "Folder the list names are relative to (e.g. market1501/bounding_box_train)" };
        var split = new Option<string?>("--split") { Description = "Split folder with train.txt, query.txt, gallery.txt" };
        var list = new Option<string>("--list") { Description = "Which of the split's lists to replay, joined by + (train, query, gallery), or a list file", DefaultValueFactory = _ => "query+gallery" };
        var st = new Option<string?>("--st") { Description = "Travel-time model (reid st learn): vetoes links the travel times rule out; its clock places the frames" };
        var appearanceToo = new Option<bool>("--appearance-too") { Description = "With --st: also replay without travel times (same embeddings)" };
        var model = Model();
        var linkDistance = new Option<string>("--link-distance")
        { Description = "Largest cosine distance between tracks of two cameras taken for one person; a comma list replays each", DefaultValueFactory = _ => Inv($"{new OnlineAssociatorOptions().LinkDistance}") };
        var recent = new Option<string>("--recent-seconds")
        { Description = "Tracks of other cameras ended at most this long before are link candidates; a comma list replays each", DefaultValueFactory = _ => Inv($"{new OnlineAssociatorOptions().RecentSeconds}") };
        var validationOf = new Option<string?>("--validation-of")
        { Description = "Replay a training recipe's validation fold (its held-out training identities, query+gallery) instead of --list; give --split or --st for the clock" };
        var threshold = new Option<string?>("--threshold")
        { Description = "Cosine score a gallery match needs (default: the model's declared threshold); a comma list replays each" };
        var minRatio = new Option<string>("--st-min-ratio")
        { Description = "With --st: a link is vetoed when its travel time is less likely than this fraction of uniform (SpatialTemporalGate); a comma list replays each", DefaultValueFactory = _ => Inv($"{SpatialTemporalGate.DefaultMinRatio}") };
        var maxIdentities = new Option<int?>("--max-identities") { Description = "Replay only the first N identities (by id) of the list" };
        var batch = Batch();
        var json = Json();
        foreach (var o in new Option[] { dataset, root, split, list, validationOf, threshold, st, appearanceToo, minRatio, model, linkDistance, recent, maxIdentities, batch, json }) command.Options.Add(o);
        command.SetAction(p =>
        {
            var wall = Stopwatch.StartNew();
            if (!string.Equals(p.GetValue(dataset), "market1501", StringComparison.OrdinalIgnoreCase))
                throw new ReidException($"reid replay reads Market-style names only (--dataset market1501), not '{p.GetValue(dataset)}'");
            var links = Numbers(p.GetValue(linkDistance)!, "--link-distance");
            var windows = Numbers(p.GetValue(recent)!, "--recent-seconds");
            var ratios = Numbers(p.GetValue(minRatio)!, "--st-min-ratio");
            if (ratios.Any(r => !(r >= 0))) throw new ReidException("--st-min-ratio must be ≥ 0");
            foreach (var (l, w) in links.SelectMany(l => windows.Select(w => (l, w))))
                new OnlineAssociatorOptions { LinkDistance = l, RecentSeconds = w }.Validate();
            if (p.GetValue(batch) < 1) throw new ReidException("--batch must be at least 1");
            if (p.GetValue(maxIdentities) is < 1) throw new ReidException("--max-identities must be at least 1");
            if (p.GetValue(appearanceToo) && p.GetValue(st) is null) throw new ReidException("--appearance-too goes with --st (without it the replay is appearance only)");

            double?[] thresholds = p.GetValue(threshold) is { } th ? Numbers(th, "--threshold").Select(v => (double?)v).ToArray() : [null];
            foreach (var v in thresholds)
                if (v is < -1 or > 1) throw new ReidException($"--threshold {v} is not a cosine score in [-1, 1]");
            var splitDir = p.GetValue(split);
            string rootDir;
            List<ImageRecord> records;
            string listName;
            if (p.GetValue(validationOf) is { } recipe)
            {
                if (p.GetResult(list) is { Implicit: false }) throw new ReidException("--validation-of replays the recipe's validation fold: drop --list");
                var fold = Reid.Training.Trainer.TrainingData.ValidationFold(recipe);
                records = fold.Query.Concat(fold.Gallery).ToList();
                rootDir = p.GetValue(root) ?? Path.GetDirectoryName(records.FirstOrDefault()?.Path) ?? ".";
                listName = fold.Name + " (query+gallery)";
            }
            else
            {
                rootDir = p.GetValue(root) ?? throw new ReidException("--root is required: the folder the list names are relative to (or give --validation-of)");
                if (!Directory.Exists(rootDir)) throw new ReidException($"data set folder not found: {rootDir}");
                (records, listName) = ReadList(rootDir, splitDir, p.GetValue(list)!);
            }
            if (p.GetValue(maxIdentities) is { } maxIds)
            {
                var keep = records.Select(r => r.PersonId).Where(id => id > 0).Distinct().Order().Take(maxIds).ToHashSet();
                records = records.Where(r => keep.Contains(r.PersonId)).ToList();
            }

            SpatialTemporalModel? stModel = null;
            MarketClock clock;
            string clockSource;
            if (p.GetValue(st) is { } stPath)
            {
                if (!File.Exists(stPath)) throw new ReidException($"travel-time model not found: {stPath}");
                stModel = SpatialTemporalModel.Load(stPath);
                clock = stModel.Clock ?? throw new ReidException($"{stPath} has no Market clock (it was learned from timestamps): reid replay needs one learned from Market-style names");
                clockSource = $"the travel-time model {stPath}";
            }
            else
            {
                if (splitDir is null) throw new ReidException("without --st the Market clock is learned from the split's train.txt: give --split");
                var train = Market1501Dataset.LoadSplit(rootDir, splitDir).Train
                    ?? throw new ReidException($"{splitDir} has no train.txt: the Market clock is learned from training identities only (or give --st)");
                if (!Directory.Exists(rootDir)) throw new ReidException($"data set folder not found: {rootDir}");
                clock = MarketClock.Learn(train.Where(r => !r.IsJunk && !r.IsDistractor)
                    .Select(r => new SequenceFrame(r.PersonId, r.Camera!, r.Sequence!.Value, r.Frame!.Value)).ToList());
                clockSource = $"learned from {Path.Combine(splitDir, "train.txt")}";
            }
            var formed = NetworkReplay.FormTracks(records, clock.Timestamp);
            if (formed.Tracks.Count == 0)
                throw new ReidException($"no track to replay: {records.Count} images, {formed.Untimed} in sequences the clock does not know, {formed.Unlabelled} junk/distractor");
            if (formed.Untimed > 0)
                Console.Error.WriteLine($"reid: warning: {formed.Untimed} image(s) are in camera sequences the clock ({clockSource}) does not know: left out");

            var modelPath = ModelPath(p, model);
            if (!File.Exists(modelPath)) throw new ReidException($"model not found: {modelPath}");
            EmbeddingModel embedding;
            try { embedding = GalleryModels.Open(modelPath, new EmbedderOptions(BatchSize: p.GetValue(batch))); }
            catch (Exception e) when (e is not ReidException) { throw new ReidException($"cannot open the model {modelPath}: {OneLine(e.Message)}"); }
            using var _ = embedding;
            var declared = embedding.Onnx?.DeclaredThreshold;
            Console.Error.WriteLine($"reid: replaying {listName}: {formed.Crops:N0} crops, {formed.Tracks.Count:N0} tracks of {formed.People:N0} people on {formed.Tracks.Select(t => t.Camera).Distinct().Count()} cameras; " +
                                    $"model {embedding.Id}, declared threshold {(declared is null ? "none (uncalibrated default)" : Inv($"{declared.Score:0.####} ({declared.Source})"))}; clock {clockSource}");

            var variants = new List<(string Name, SpatialTemporalModel? Model, double? MinRatio)>();
            if (stModel is null || p.GetValue(appearanceToo)) variants.Add(("appearance", null, null));
            if (stModel is not null) variants.AddRange(ratios.Select(r => ("travel_times", (SpatialTemporalModel?)stModel, (double?)r)));

            IReadOnlyList<EmbeddedReplayTrack> embedded = [];
            var runs = new List<(string Variant, double? MinRatio, double? Threshold, double Link, double Window, ReplayScore Score, long Checks, long Vetoes, double Seconds)>();
            var embedWatch = Stopwatch.StartNew();
            double embedSeconds = 0;
            Stderr.Progress().AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var embedTask = ctx.AddTask($"embed {formed.Crops:N0} crops", maxValue: formed.Crops);
                    embedded = NetworkReplay.Embed(formed.Tracks, embedding, p.GetValue(batch), done => embedTask.Value = done);
                    embedSeconds = embedWatch.Elapsed.TotalSeconds;
                    var remembering = NetworkReplay.Remembering(embedding, embedded);
                    foreach (var (variant, vModel, vRatio) in variants)
                    foreach (var th in thresholds)
                    foreach (var link in links)
                    foreach (var window in windows)
                    {
                        var task = ctx.AddTask(Inv($"replay {variant} threshold {th?.ToString(CultureInfo.InvariantCulture) ?? "declared"} link {link} window {window} s"), maxValue: embedded.Count);
                        var sw = Stopwatch.StartNew();
                        var dir = Path.Combine(Path.GetTempPath(), "reid-replay-" + Guid.NewGuid().ToString("N")[..12]);
                        try
                        {
                            var gallery = new GalleryService(SqliteGalleryStore.Open(dir), remembering);
                            // The veto is counted (checks, vetoes) to show how often travel times decided anything.
                            long checks = 0, vetoes = 0;
                            Func<Reid.Video.CrossCamera.TrackSighting, Reid.Video.CrossCamera.TrackSighting, bool>? canBeSame = null;
                            if (vModel is not null)
                            {
                                var gate = SpatialTemporalGate.CanBeSame(vModel, vRatio!.Value);
                                canBeSame = (a, b) =>
                                {
                                    checks++;
                                    if (gate(a, b)) return true;
                                    vetoes++;
                                    return false;
                                };
                            }
                            var outcomes = NetworkReplay.Associate(embedded, gallery, new OnlineAssociatorOptions { LinkDistance = link, RecentSeconds = window, Threshold = th },
                                canBeSame, NetworkReplay.DefaultOrigin, done => task.Value = done);
                            runs.Add((variant, vRatio, th ?? gallery.ResolveThreshold().Score, link, window, ReplayScoring.Score(NetworkReplay.ForScoring(outcomes)),
                                checks, vetoes, sw.Elapsed.TotalSeconds));
                        }
                        finally
                        {
                            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
                        }
                    }
                });

            // Plain lines (one a run), readable in a log as well as on a terminal.
            Console.WriteLine("variant       min_ratio  vetoes/checks    threshold  link_dist  window_s  link_P  link_R  link_F1  IDF1    split    ids/person  merged  identities");
            foreach (var r in runs)
            {
                var s = r.Score;
                Console.WriteLine(Inv($"{r.Variant,-13} {(r.MinRatio is { } mr ? mr.ToString(CultureInfo.InvariantCulture) : "-"),-10} {r.Vetoes + "/" + r.Checks,-16} {r.Threshold,-10:0.####} {r.Link,-10} {r.Window,-9} {s.LinkPrecision,-7:0.0000} {s.LinkRecall,-7:0.0000} {s.LinkF1,-8:0.0000} {s.Idf1,-7:0.0000} {s.PeopleSplit + "/" + s.People,-8} {s.IdentitiesPerPerson,-11:0.00} {s.IdentitiesMerged,-7} {s.Identities} (true {s.People})"));
            }
            Console.Error.WriteLine(Inv($"reid: {wall.Elapsed.TotalSeconds:0} s wall ({embedSeconds:0} s embedding)"));
            if (p.GetValue(json) is { } jsonPath)
            {
                var j = new JsonObject
                {
                    ["model"] = modelPath, ["model_id"] = embedding.Id, ["declared_threshold"] = declared?.Score, ["declared_threshold_source"] = declared?.Source,
                    ["root"] = rootDir, ["split"] = splitDir, ["list"] = listName, ["st"] = p.GetValue(st), ["clock"] = clockSource,
                    ["origin"] = NetworkReplay.DefaultOrigin.ToString("O", CultureInfo.InvariantCulture),
                    ["images"] = formed.Crops, ["tracks"] = formed.Tracks.Count, ["people"] = formed.People,
                    ["untimed"] = formed.Untimed, ["unlabelled"] = formed.Unlabelled,
                    ["embed_seconds"] = embedSeconds, ["wall_seconds"] = wall.Elapsed.TotalSeconds,
                    ["runs"] = new JsonArray(runs.Select(r => (JsonNode)new JsonObject
                    {
                        ["variant"] = r.Variant, ["st_min_ratio"] = r.MinRatio, ["st_checks"] = r.Checks, ["st_vetoes"] = r.Vetoes, ["threshold"] = r.Threshold, ["link_distance"] = r.Link, ["recent_seconds"] = r.Window, ["seconds"] = r.Seconds,
                        ["score"] = JsonSerializer.SerializeToNode(r.Score, ReidJson.Options),
                    }).ToArray()),
                };
                EvaluationJson.Write(jsonPath, j);
            }
            return CliRunner.Ok;
        });
        return command;
    }

    /// <summary>The records of the chosen lists: names of the split's lists joined by +, or a list file (names relative to root).</summary>
    internal static (List<ImageRecord> Records, string Name) ReadList(string root, string? splitDir, string list)
    {
        string[] names = list.Split('+', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length > 0 && names.All(n => Lists.Contains(n)))
        {
            if (splitDir is null) throw new ReidException($"--list {list} names lists of a split: give --split (a folder with {string.Join(", ", Lists.Select(l => l + ".txt"))})");
            var records = new List<ImageRecord>();
            foreach (var n in names.Distinct())
            {
                var entries = ListFile.Read(Path.Combine(splitDir, n + ".txt"));
                records.AddRange(Parse(root, entries, Path.Combine(splitDir, n + ".txt")));
            }
            return (records, $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(splitDir))} {string.Join('+', names.Distinct())}");
        }
        if (File.Exists(list)) return (Parse(root, ListFile.Read(list), list), list);
        throw new ReidException($"--list {list}: neither a file nor lists of a split joined by + ({string.Join(", ", Lists)})");
    }

    private static List<ImageRecord> Parse(string root, IReadOnlyList<ListFile.Entry> entries, string source)
    {
        var records = entries.Select(e => Market1501Name.TryParse(e.Name) is { } n ? n.ToRecord(Path.Combine(root, e.Name)) : null).ToList();
        var parsed = records.OfType<ImageRecord>().ToList();
        if (parsed.Count == 0)
            throw new ReidException($"{source}: none of its {entries.Count} name(s) is a Market-style name PPPP_cCsS_FFFFFF_BB.jpg");
        if (parsed.Count < entries.Count)
        {
            var bad = entries.First(e => Market1501Name.TryParse(e.Name) is null);
            throw new ReidException($"{source} line {bad.Line}: '{bad.Name}' is not a Market-style name PPPP_cCsS_FFFFFF_BB.jpg ({entries.Count - parsed.Count} such)");
        }
        return parsed;
    }

    private static double[] Numbers(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new ReidException($"{option} needs a number");
        return parts.Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
            : throw new ReidException($"{option}: '{s}' is not a number")).Distinct().ToArray();
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
