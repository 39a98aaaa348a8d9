using System.CommandLine;
using System.Text.Json;
using Reid.Core;
using Reid.Data;
using Reid.Evaluation;
using Reid.Gallery;
using Reid.Gallery.Api;
using Reid.Gallery.Video;
using Reid.Video;
using Reid.Video.Calibration;
using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid gallery …`: the stored gallery from the command line (enrol, verify, identify, search, list, delete,
/// reembed, keys, calibrate, bench-search). Every subcommand takes --data DIR (SQLite) or
/// --database CONNSTRING (PostgreSQL); answers can go to --json FILE.
/// </summary>
internal static class GalleryCommand
{
    public static Command Create()
    {
        var command = new Command("gallery", "The persistent gallery of identities: enrol, verify, identify, search, list, delete, delete-sighting, reembed");
        command.Subcommands.Add(Enrol());
        command.Subcommands.Add(Verify());
        command.Subcommands.Add(Identify());
        command.Subcommands.Add(Search());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Delete());
        command.Subcommands.Add(DeleteSighting());
        command.Subcommands.Add(Reembed());
        command.Subcommands.Add(Keys());
        command.Subcommands.Add(Calibrate());
        command.Subcommands.Add(GalleryBenchSearchCommand.Create());
        return command;
    }

    // ---- shared options ----------------------------------------------------------------------------------
    // Every subcommand names its gallery with --data DIR (SQLite) or --database CONNSTRING (PostgreSQL).
    private static GalleryLocation Data() => new(
        new Option<string?>("--data") { Description = "Gallery directory (SQLite); with --database: this node's local files" },
        new Option<string?>("--database") { Description = GalleryLocation.DatabaseHelp });
    private static Option<string?> Model() => new("--model") { Description = "ReID model (.onnx); default: the project's default model" };
    private static Option<string?> JsonOut() => new("--json") { Description = "Also write the answer as JSON to this file" };
    private static Option<double?> Threshold() => new("--threshold") { Description = "Decision threshold (cosine) overriding the calibrated one" };

    private static Option<string[]> Images(string name, string description) =>
        new(name) { Description = description, Required = true, AllowMultipleArgumentsPerToken = true, Arity = ArgumentArity.OneOrMore };

    private static (Option<string?> Video, Option<long?> From, Option<long?> To, Option<int?> Track, Option<string?> Detector) VideoOptions() => (
        new("--video") { Description = "A video instead of images: people are detected and tracked in it" },
        new("--from") { Description = "First frame (1-based, inclusive)" },
        new("--to") { Description = "Last frame (inclusive)" },
        new("--track") { Description = "Which track to enrol (default: the one seen longest)" },
        new("--detector") { Description = "Person detector (.onnx); else REID_DETECTOR or configs/video.yaml" });

    private static IReadOnlyList<PersonTrack> Track(GalleryService g, string video, long? from, long? to, string? detector)
    {
        using var extractor = new VideoPersonExtractor(VideoConfig.LoadDefault(), detector, g.Model.Onnx);
        IReadOnlyList<PersonTrack> tracks = [];
        AnsiConsole.Progress().Start(ctx =>
        {
            var task = ctx.AddTask($"tracking people in {Path.GetFileName(video)}", maxValue: 1);
            tracks = extractor.Extract(video, from, to, new Progress<double>(p => task.Value = p), CancellationToken.None);
            task.Value = 1;
        });
        return tracks;
    }

    // Sightings enrolled with another model (e.g. before the shipped default changed) cannot match until re-embedded;
    // without this warning every answer would silently be "unknown".
    private static GalleryService OpenService(ParseResult parse, GalleryLocation data, Option<string?> model, bool warnUnembedded = true)
    {
        var g = new GalleryService(data.Open(parse), GalleryModels.Open(parse.GetValue(model)));
        if (warnUnembedded && UnembeddedWarning(g) is { } warning) Console.Error.WriteLine($"reid: warning: {warning}");
        return g;
    }

    /// <summary>What `serve` and the gallery commands say when stored sightings lack the active model's embedding; null when none do.</summary>
    internal static string? UnembeddedWarning(GalleryService g) =>
        g.SightingsMissingEmbedding is > 0 and var missing
            ? $"{missing} stored sighting(s) have no embedding from model {g.Model.Id} (enrolled with another model) and " +
              "cannot match; run `reid gallery reembed` on this gallery"
            : null;

    /// <summary>Files named on the command line; a folder stands for the JPEG/PNG files in it.</summary>
    internal static IReadOnlyList<ImageInput> ReadImages(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (var p in paths)
        {
            if (Directory.Exists(p))
                files.AddRange(Directory.EnumerateFiles(p).Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)
                    || f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Order());
            else if (File.Exists(p)) files.Add(p);
            else throw new ReidException($"{p}: no such file or folder");
        }
        if (files.Count == 0) throw new ReidException("no JPEG or PNG image found in the given paths");
        return files.Select(f => new ImageInput(f, File.ReadAllBytes(f), new SightingSource(Source: Path.GetFileName(f)))).ToArray();
    }

    internal static void WriteJson(string? path, object value)
    {
        if (string.IsNullOrEmpty(path)) return;
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(path, JsonSerializer.Serialize(value, ReidJson.Options));
    }

    // ---- subcommands -------------------------------------------------------------------------------------
    private static Command Enrol()
    {
        var (data, model, json) = (Data(), Model(), JsonOut());
        var name = new Option<string>("--name") { Description = "The person's name", Required = true };
        var images = Images("--images", "Crops of the person (files or folders)");
        images.Required = false;
        var (video, from, to, track, detector) = VideoOptions();
        var metadata = new Option<string?>("--metadata") { Description = "Free metadata as a JSON object" };
        var camera = new Option<string?>("--camera") { Description = "Camera the images come from" };
        var time = new Option<string?>("--time") { Description = "When the images were taken (ISO 8601): with --camera, travel-time models can use them" };
        var c = new Command("enrol", "Enrol a person from images or from a video track (one transaction: all or nothing)")
            { data, model, json, name, images, metadata, camera, time, video, from, to, track, detector };
        c.SetAction(parse =>
        {
            var g = OpenService(parse, data, model);
            var actor = Environment.UserName is { Length: > 0 } u ? $"cli:{u}" : "cli";
            EnrolResult r;
            if (parse.GetValue(video) is { } videoPath)
            {
                var tracks = Track(g, videoPath, parse.GetValue(from), parse.GetValue(to), parse.GetValue(detector));
                var chosen = VideoCrops.Choose(tracks, parse.GetValue(track), videoPath);
                var left = chosen.Crops.Count(c => !c.Usable);
                Console.WriteLine($"{tracks.Count} track(s); enrolling track {chosen.Id} (frames {chosen.FirstFrame}-{chosen.LastFrame}, {chosen.Crops.Count} crops" +
                                  (left == 0 ? ")" : $"; {left} left out: {VideoCrops.FlawSummary(chosen)})"));
                r = g.EnrolCrops(parse.GetValue(name)!, VideoCrops.From(chosen, Path.GetFileName(videoPath)), parse.GetValue(metadata), actor);
            }
            else
            {
                if (parse.GetValue(images) is not { Length: > 0 } paths) throw new ReidException("give --images FILE… or --video FILE");
                var inputs = ReadImages(paths);
                var (cam, at) = (parse.GetValue(camera), SightingSource.ParseTime(parse.GetValue(time), "--time"));
                inputs = inputs.Select(i => i.SeenAt(cam, at)).ToArray();
                r = g.Enrol(parse.GetValue(name)!, inputs, parse.GetValue(metadata), actor);
            }
            Console.WriteLine($"enrolled {r.Identity.Name} as identity {r.Identity.Id} with {r.Sightings.Count} sighting(s) (model {g.Model.Id})");
            WriteJson(parse.GetValue(json), IdentityDetailDto.From(r));
            return CliRunner.Ok;
        });
        return c;
    }

    private static Command Verify()
    {
        var (data, model, json, threshold) = (Data(), Model(), JsonOut(), Threshold());
        var identity = new Option<long>("--identity") { Description = "The claimed identity's id", Required = true };
        var images = Images("--image", "Probe image(s) of one person");
        images.Required = false;
        var (video, from, to, track, detector) = VideoOptions();
        track.Description = "Which track is the probe (default: the one seen longest)";
        var c = new Command("verify", "Is the probe (images, or a person tracked in a video) the claimed identity? (match / no match, score, threshold)")
            { data, model, json, threshold, identity, images, video, from, to, track, detector };
        c.SetAction(parse =>
        {
            var g = OpenService(parse, data, model);
            VerifyResult r;
            if (parse.GetValue(video) is { } videoPath)
            {
                var tracks = Track(g, videoPath, parse.GetValue(from), parse.GetValue(to), parse.GetValue(detector));
                var chosen = VideoCrops.Choose(tracks, parse.GetValue(track), videoPath);
                Console.WriteLine($"{tracks.Count} track(s); the probe is track {chosen.Id} (frames {chosen.FirstFrame}-{chosen.LastFrame}, {chosen.Crops.Count} crops)");
                r = g.VerifyCrops(parse.GetValue(identity), VideoCrops.From(chosen, Path.GetFileName(videoPath)), parse.GetValue(threshold));
            }
            else if (parse.GetValue(images) is { Length: > 0 } paths) r = g.Verify(parse.GetValue(identity), ReadImages(paths), parse.GetValue(threshold));
            else throw new ReidException("give --image FILE… or --video FILE");
            Console.WriteLine($"{(r.Match ? "MATCH" : "NO MATCH")}: {r.Identity.Name} (#{r.Identity.Id}) score {r.Score:F3} " +
                              $"(mean {r.MeanScore:F3}) threshold {r.Threshold.Score:F3} [{r.Threshold.Source}]");
            WriteJson(parse.GetValue(json), VerifyDto.From(r, g.Store));
            return CliRunner.Ok;
        });
        return c;
    }

    private static Command Identify()
    {
        var (data, model, json, threshold) = (Data(), Model(), JsonOut(), Threshold());
        var images = Images("--image", "Probe image(s) of one person");
        images.Required = false;
        var (video, from, to, _, detector) = VideoOptions();
        var k = new Option<int>("--k") { Description = "How many identities to rank", DefaultValueFactory = _ => 5 };
        var enrolAs = new Option<string?>("--enrol-unknown-as") { Description = "Enrol the probe under this name when nobody matches" };
        var (st, camera, time) = TravelTimeOptions();
        var c = new Command("identify", "Who is this? Ranked identities with scores, or unknown below the threshold (a video: each tracked person)")
            { data, model, json, threshold, images, k, enrolAs, st, camera, time, video, from, to, detector };
        c.SetAction(parse =>
        {
            var g = OpenService(parse, data, model);
            if (parse.GetValue(video) is { } videoPath)
            {
                var tracks = Track(g, videoPath, parse.GetValue(from), parse.GetValue(to), parse.GetValue(detector));
                foreach (var t in tracks.Where(t => !VideoCrops.HasUsableCrop(t)))
                    Console.WriteLine($"track {t.Id} (frames {t.FirstFrame}-{t.LastFrame}): not identified, no usable crop ({VideoCrops.FlawSummary(t)})");
                var results = tracks.Where(VideoCrops.HasUsableCrop)
                    .Select(t => (t, res: g.IdentifyCrops(VideoCrops.From(t, Path.GetFileName(videoPath)), parse.GetValue(k), parse.GetValue(threshold)))).ToArray();
                foreach (var (t, res) in results)
                    Console.WriteLine($"track {t.Id} (frames {t.FirstFrame}-{t.LastFrame}): " + (res.Unknown ? "UNKNOWN" : $"{res.Matches[0].Name} (#{res.Matches[0].Identity}) score {res.Matches[0].Score:F3}"));
                WriteJson(parse.GetValue(json), new VideoIdentifyDto(videoPath,
                    results.Select(x => new TrackIdentifyDto(x.t.Id, x.t.FirstFrame, x.t.LastFrame, x.res.Unknown, x.res.Matches.Select(MatchDto.From).ToArray())).ToArray(),
                    ThresholdDto.From(g.ResolveThreshold(parse.GetValue(threshold))), g.Model.Id));
                return CliRunner.Ok;
            }
            if (parse.GetValue(images) is not { Length: > 0 } paths) throw new ReidException("give --image FILE… or --video FILE");
            var where = TravelTimeProbe(parse.GetValue(st), parse.GetValue(camera), parse.GetValue(time));
            var r = g.Identify(ReadImages(paths), parse.GetValue(k), parse.GetValue(threshold), parse.GetValue(enrolAs), where: where);
            var table = new Table().AddColumns("rank", "identity", "name", "score", "mean", "sightings", where is null ? "" : "appearance", "");
            foreach (var (m, i) in r.Matches.Select((m, i) => (m, i)))
                table.AddRow($"{i + 1}", $"{m.Identity}", Markup.Escape(m.Name), $"{m.Score:F3}", $"{m.MeanScore:F3}", $"{m.Sightings}",
                    m.AppearanceScore is { } a ? $"{a:F3}" : "", m.AboveThreshold ? "[green]match[/]" : "");
            AnsiConsole.Write(table);
            if (r.SpatialTemporal is { } note) Console.WriteLine(note);
            Console.WriteLine(r.Unknown ? $"UNKNOWN (nobody reaches {r.Threshold.Score:F3} [{r.Threshold.Source}])" : $"IDENTIFIED: {r.Matches[0].Name} (#{r.Matches[0].Identity})");
            if (r.Enrolled is { } e) Console.WriteLine($"enrolled the unknown person as {e.Name} (#{e.Id})");
            WriteJson(parse.GetValue(json), IdentifyDto.From(r));
            return CliRunner.Ok;
        });
        return c;
    }

    private static (Option<string?> St, Option<string?> Camera, Option<string?> Time) TravelTimeOptions() => (
        new Option<string?>("--st") { Description = "Travel-time model (reid st learn): rescale each sighting's score by how plausible the walk from the probe's --camera/--time is" },
        new Option<string?>("--camera") { Description = "With --st: the camera the probe was seen by" },
        new Option<string?>("--time") { Description = "With --st: when the probe was seen (ISO 8601, e.g. 2026-11-21T19:30:00Z)" });

    private static SpatialTemporalProbe? TravelTimeProbe(string? modelPath, string? camera, string? time)
    {
        if (modelPath is null)
        {
            if (camera is not null || time is not null) throw new ReidException("--camera and --time go with --st MODEL (a travel-time model)");
            return null;
        }
        if (string.IsNullOrWhiteSpace(camera) || string.IsNullOrWhiteSpace(time))
            throw new ReidException("--st needs the probe's --camera and --time");
        return new SpatialTemporalProbe(Reid.SpatialTemporal.SpatialTemporalModel.Load(modelPath), camera, SightingSource.ParseTime(time, "--time")!.Value);
    }

    private static Command Search()
    {
        var (data, model, json) = (Data(), Model(), JsonOut());
        var images = Images("--image", "Probe image(s) of one person");
        var k = new Option<int>("--k") { Description = "How many sightings", DefaultValueFactory = _ => 50 };
        var (st, camera, time) = TravelTimeOptions();
        var c = new Command("search", "The top-k stored sightings most similar to the probe") { data, model, json, images, k, st, camera, time };
        c.SetAction(parse =>
        {
            var g = OpenService(parse, data, model);
            var where = TravelTimeProbe(parse.GetValue(st), parse.GetValue(camera), parse.GetValue(time));
            var r = g.Search(ReadImages(parse.GetValue(images)!), parse.GetValue(k), where);
            var table = new Table().AddColumns("rank", "score", "identity", "name", "sighting", "camera", "source", where is null ? "" : "appearance");
            foreach (var (h, i) in r.Hits.Select((h, i) => (h, i)))
                table.AddRow($"{i + 1}", $"{h.Score:F3}", $"{h.Identity}", Markup.Escape(h.Name), $"{h.SightingId}",
                    Markup.Escape(h.Sighting.Origin.Camera ?? ""), Markup.Escape(h.Sighting.Origin.Source ?? ""), h.AppearanceScore is { } a ? $"{a:F3}" : "");
            AnsiConsole.Write(table);
            if (r.SpatialTemporal is { } note) Console.WriteLine(note);
            WriteJson(parse.GetValue(json), r.Hits.Select(SearchHitDto.From).ToArray());
            return CliRunner.Ok;
        });
        return c;
    }

    private static Command List()
    {
        var (data, json) = (Data(), JsonOut());
        var q = new Option<string?>("--name") { Description = "Only names containing this" };
        var c = new Command("list", "The identities in the gallery") { data, json, q };
        c.SetAction(parse =>
        {
            var store = data.Open(parse);
            var list = store.ListIdentities(parse.GetValue(q));
            var table = new Table().AddColumns("id", "name", "sightings", "created");
            foreach (var i in list) table.AddRow($"{i.Id}", Markup.Escape(i.Name), $"{i.SightingCount}", i.Created.ToString("u"));
            AnsiConsole.Write(table);
            Console.WriteLine($"{list.Count} identities; embeddings per model: " +
                              string.Join(", ", store.EmbeddingCounts().Select(kv => $"{kv.Key}: {kv.Value}")));
            WriteJson(parse.GetValue(json), list.Select(IdentityDto.From).ToArray());
            return CliRunner.Ok;
        });
        return c;
    }

    private static Command Delete()
    {
        var data = Data();
        var identity = new Option<long>("--identity") { Description = "The identity to erase", Required = true };
        var reason = new Option<string?>("--reason") { Description = "Why (kept in the audit log)" };
        var c = new Command("delete", "Erase an identity with its sightings, crops and embeddings (logged)") { data, identity, reason };
        c.SetAction(parse =>
        {
            var store = data.Open(parse);
            var id = parse.GetValue(identity);
            if (!store.DeleteIdentity(id, Environment.UserName is { Length: > 0 } u ? $"cli:{u}" : "cli", parse.GetValue(reason)))
                throw new IdentityNotFoundException(id);
            Console.WriteLine($"erased identity {id} with its sightings, crops and embeddings");
            return CliRunner.Ok;
        });
        return c;
    }

    private static Command DeleteSighting()
    {
        var data = Data();
        var sighting = new Option<long>("--sighting") { Description = "The sighting to erase (its id, as `reid gallery enrol --json` and GET /api/identities/ID list them)", Required = true };
        var reason = new Option<string?>("--reason") { Description = "Why (kept in the audit log)" };
        var c = new Command("delete-sighting", "Erase one sighting of an identity with its crop and embeddings (logged); an identity keeps at least one") { data, sighting, reason };
        c.SetAction(parse =>
        {
            var store = data.Open(parse);
            var id = parse.GetValue(sighting);
            var removed = store.DeleteSighting(id, Environment.UserName is { Length: > 0 } u ? $"cli:{u}" : "cli", parse.GetValue(reason))
                          ?? throw new ReidException($"sighting {id} does not exist");
            Console.WriteLine($"erased sighting {id} with its crop and embeddings; identity {removed.IdentityId} has {removed.SightingsLeft} sighting(s) left");
            return CliRunner.Ok;
        });
        return c;
    }

    private static Command Reembed()
    {
        var (data, model, json) = (Data(), Model(), JsonOut());
        var c = new Command("reembed", "Compute embeddings of the stored crops with another model (the old ones are kept apart)") { data, model, json };
        c.SetAction(parse =>
        {
            var g = OpenService(parse, data, model, warnUnembedded: false);
            ReembedResult? result = null;
            AnsiConsole.Progress().Start(ctx =>
            {
                var task = ctx.AddTask($"embedding with {g.Model.Id}", maxValue: Math.Max(1, g.SightingsMissingEmbedding));
                result = g.Reembed(new Progress<(int Done, int Total)>(p => task.Value = p.Done));
                task.Value = task.MaxValue;
            });
            Console.WriteLine($"model {result!.ModelId}: embedded {result.Embedded} sighting(s); {result.AlreadyDone} already had one");
            WriteJson(parse.GetValue(json), result);
            return CliRunner.Ok;
        });
        return c;
    }

    private static Command Calibrate()
    {
        var (data, model, json) = (Data(), Model(), JsonOut());
        var dataset = new Option<string>("--dataset") { Description = "Labelled data set kind (market1501, cuhk03, folders, csv)", DefaultValueFactory = _ => "market1501" };
        var root = new Option<string?>("--root") { Description = "Labelled data set root (or give --video)" };
        var split = new Option<string?>("--split") { Description = "Folder with query.txt and gallery.txt" };
        var videos = new Option<string[]>("--video")
        {
            Description = "Unlabelled video(s) of your cameras instead of labelled data: people seen together are different, a track is one person (repeat for several)",
            AllowMultipleArgumentsPerToken = true,
        };
        var detector = new Option<string?>("--detector") { Description = "Person detector (.onnx) for --video; else REID_DETECTOR or configs/video.yaml" };
        var far = new Option<double>("--far") { Description = "False-accept rate the threshold is chosen at", DefaultValueFactory = _ => 1e-3 };
        var c = new Command("calibrate",
            "Choose the model's decision threshold at a false-accept rate, from a labelled split or from unlabelled video of your cameras (stored with the model id)")
            { data, model, json, dataset, root, split, videos, detector, far };
        c.SetAction(parse =>
        {
            var videoPaths = parse.GetValue(videos) ?? [];
            if ((videoPaths.Length > 0) == (parse.GetValue(root) is not null))
                throw new ReidException("give either --root (labelled data) or --video (unlabelled video of your cameras)");
            var g = OpenService(parse, data, model);
            if (videoPaths.Length > 0) return CalibrateOnVideo(g, videoPaths, parse.GetValue(detector), parse.GetValue(far), parse.GetValue(json));
            var set = DatasetLoader.Load(new DatasetSpec(DatasetLoader.ParseKind(parse.GetValue(dataset)!), parse.GetValue(root)!, parse.GetValue(split)));
            EmbeddedImages? q = null, gal = null;
            AnsiConsole.Progress().Start(ctx =>
            {
                var tq = ctx.AddTask("embedding queries", maxValue: set.Query.Count);
                q = DatasetEmbedding.Run(set.Query, g.Model.Embed, progress: n => tq.Value = n);
                var tg = ctx.AddTask("embedding gallery", maxValue: set.Gallery.Count);
                gal = DatasetEmbedding.Run(set.Gallery, g.Model.Embed, progress: n => tg.Value = n);
            });
            var setName = Path.GetFileName(Path.TrimEndingDirectorySeparator(parse.GetValue(split) ?? parse.GetValue(root)!));
            var (point, v, open) = ThresholdCalibration.FromLabelled(g, q!, gal!, parse.GetValue(far), setName, "cli");
            Console.WriteLine(FormattableString.Invariant($"model {g.Model.Id}: threshold {point.Threshold:F4} at FAR {point.Far:0.#####} (target {point.TargetFar:0.#####}), TAR {point.Tar:F3}, AUC {v.Auc:F4}; {v.Genuine.Length:N0} genuine / {v.Impostor.Length:N0} impostor pairs"));
            Console.WriteLine(FormattableString.Invariant($"open-set (half the gallery's people enrolled): FPIR {open.Fpir:F4}, DIR {open.Dir:F4} at this threshold"));
            WriteJson(parse.GetValue(json), new
            {
                model = g.Model.Id, threshold = point.Threshold, far = point.Far, targetFar = point.TargetFar, tar = point.Tar, auc = v.Auc,
                genuinePairs = v.Genuine.Length, impostorPairs = v.Impostor.Length, fpir = open.Fpir, dir = open.Dir,
            });
            return CliRunner.Ok;
        });
        return c;
    }

    private static int CalibrateOnVideo(GalleryService g, string[] videos, string? detector, double far, string? json)
    {
        var tracked = videos.Select(v => (Path.GetFileName(v), Track(g, v, null, null, detector))).ToList();
        var r = ThresholdCalibration.FromVideo(g, tracked, far, "cli");
        Console.WriteLine(FormattableString.Invariant(
            $"model {g.Model.Id}: threshold {r.Point.Threshold:F4} at FAR {r.Point.Far:0.#####} (target {r.Point.TargetFar:0.#####}; at most {r.FarUpperBound:0.#####} with 95% confidence if comparisons were independent), TAR {r.Point.Tar:F3}"));
        Console.WriteLine(FormattableString.Invariant(
            $"evidence: {r.Tracks} tracks, {r.PeoplePairs} pairs of people seen at the same time ({r.Scores.Impostor.Length:N0} comparisons), {r.TracksWithGenuine} tracks long enough for genuine comparisons ({r.Scores.Genuine.Length:N0})"));
        if (r.Scores.Genuine.Length == 0)
            Console.Error.WriteLine("reid: warning: no track was long enough to measure the true-accept rate; the threshold rests on impostor comparisons only");
        WriteJson(json, CalibrationDto.From(g.Model.Id, r));
        return CliRunner.Ok;
    }

    private static Command Keys()
    {
        var keys = new Command("keys", "API keys of `reid serve` (stored hashed): add, list, revoke");
        var data = Data();
        var role = new Option<string>("--role") { Description = "read (search/verify/identify) or write (also enrol/delete)", DefaultValueFactory = _ => "read" };
        role.AcceptOnlyFromAmong("read", "write");
        var label = new Option<string>("--label") { Description = "Who or what the key is for", DefaultValueFactory = _ => "key" };
        var add = new Command("add", "Create a key and print it (shown once)") { data, role, label };
        add.SetAction(parse =>
        {
            var store = data.Open(parse);
            Console.WriteLine(store.CreateApiKey(parse.GetValue(label)!, parse.GetValue(role) == "write" ? KeyRole.Write : KeyRole.Read, "cli"));
            return CliRunner.Ok;
        });
        var listData = Data();
        var list = new Command("list", "The keys (never their secrets)") { listData };
        list.SetAction(parse =>
        {
            foreach (var k in listData.Open(parse).ListApiKeys())
                Console.WriteLine($"{k.Id}\t{k.Role.ToString().ToLowerInvariant()}\t{(k.Revoked ? "revoked" : "active")}\t{k.Created:u}\t{k.Label}");
            return CliRunner.Ok;
        });
        var revokeData = Data();
        var id = new Option<long>("--id") { Description = "Key id (from `keys list`)", Required = true };
        var revoke = new Command("revoke", "Revoke a key") { revokeData, id };
        revoke.SetAction(parse =>
        {
            if (!revokeData.Open(parse).RevokeApiKey(parse.GetValue(id), "cli"))
                throw new ReidException($"no active key {parse.GetValue(id)}");
            Console.WriteLine($"revoked key {parse.GetValue(id)}");
            return CliRunner.Ok;
        });
        keys.Subcommands.Add(add);
        keys.Subcommands.Add(list);
        keys.Subcommands.Add(revoke);
        return keys;
    }
}
