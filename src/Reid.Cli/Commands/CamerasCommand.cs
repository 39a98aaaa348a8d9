using System.CommandLine;
using Reid.Core;
using Reid.Gallery;
using Reid.Gallery.Video;
using Reid.Inference;
using Reid.SpatialTemporal;
using Reid.Video;
using Reid.Video.CrossCamera;
using Reid.Video.Decoding;
using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid cameras --video CAM=PATH@START … --data DIR`: track people in several cameras' videos, give every
/// track a global identity (a gallery identity it matches, another camera's track, or a new person) and store
/// every sighting in the gallery.
/// </summary>
internal static class CamerasCommand
{
    public static Command Create()
    {
        var videos = new Option<string[]>("--video")
        {
            Description = $"A camera's video, repeated: {CameraVideo.Syntax}. START is the wall-clock time of the video's frame 1",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var data = new Option<string>("--data") { Description = "Gallery directory (created if absent)", Required = true };
        var st = new Option<string?>("--st") { Description = "Spatial-temporal model (`reid st learn`): vetoes joins its travel times rule out" };
        var step = new Option<int>("--step") { Description = "Process every K-th frame", DefaultValueFactory = _ => 1 };
        var detector = new Option<string?>("--detector") { Description = "ONNX person detector (overrides the config and REID_DETECTOR)" };
        var model = new Option<string?>("--model") { Description = "ReID ONNX model, used for tracking and the gallery (default: the config's, else the project's default)" };
        var config = new Option<string?>("--config") { Description = "Video config YAML (default: configs/video.yaml)" };
        var linkDistance = new Option<double>("--link-distance")
        { Description = "Largest average cosine distance at which tracks are joined into one person", DefaultValueFactory = _ => new CrossCameraConfig().MaxTrackDistance };
        var knownDistance = new Option<double>("--known-distance")
        { Description = "Largest cosine distance at which a person takes a gallery identity", DefaultValueFactory = _ => new CrossCameraConfig().MaxKnownDistance };
        var json = new Option<string?>("--json") { Description = "Write every track's global identity (new or matched, score) as JSON to this file" };
        var stitch = new Option<bool>("--stitch") { Description = "Within each video, join a lost track with a later track of the same person first" };

        var command = new Command("cameras", "Re-identify people across several cameras' videos and store their sightings in the gallery");
        foreach (var o in new Option[] { videos, data, st, step, detector, model, config, linkDistance, knownDistance, json, stitch })
            command.Options.Add(o);

        command.SetAction(parse =>
        {
            var specs = parse.GetValue(videos)!.Select(CameraVideo.Parse).ToList();
            foreach (var v in specs)
                if (!File.Exists(v.Path) && !Directory.Exists(v.Path)) throw new ReidException($"camera {v.Camera}: video not found: {v.Path}");
            var cfg = parse.GetValue(config) is { } c ? VideoConfig.Load(c) : VideoConfig.LoadDefault();
            if (parse.GetValue(stitch)) cfg = cfg with { Extraction = cfg.Extraction with { Stitch = cfg.Extraction.Stitch with { Enabled = true } } };
            int frameStep = parse.GetValue(step);
            var ranges = specs.Select(v => new FrameRange(v.From, v.To, frameStep)).ToList();
            ranges.ForEach(r => r.Validate());
            var matching = new CrossCameraConfig { MaxTrackDistance = parse.GetValue(linkDistance), MaxKnownDistance = parse.GetValue(knownDistance) };
            if (matching.MaxTrackDistance is < 0 or > 2 || matching.MaxKnownDistance is < 0 or > 2)
                throw new ReidException("--link-distance and --known-distance are cosine distances in [0, 2]");
            var stModel = parse.GetValue(st) is { } stPath ? SpatialTemporalModel.Load(stPath) : null;

            var store = GalleryStore.Open(parse.GetValue(data)!);
            var modelPath = parse.GetValue(model) ?? cfg.Appearance.Model;
            using var embedding = GalleryModels.Open(modelPath,
                new EmbedderOptions(BatchSize: cfg.Appearance.BatchSize, IntraOpThreads: cfg.Appearance.Threads));
            var gallery = new GalleryService(store, embedding);
            using var extractor = new VideoPersonExtractor(cfg, parse.GetValue(detector), embedding.Onnx);

            var runs = new List<CameraRun>();
            var stats = new List<ExtractionStats>();
            VideoProgress.Run(specs.Select(v => $"{v.Camera}: {Path.GetFileName(Path.TrimEndingDirectorySeparator(v.Path))}").ToList(), (i, progress) =>
            {
                var r = extractor.ExtractDetailed(specs[i].Path, ranges[i], specs[i].Camera, progress, CancellationToken.None);
                if (r.Stats.Warning is { } warning) Console.Error.WriteLine($"reid: warning: camera {specs[i].Camera}: {warning}");
                runs.Add(new CameraRun(specs[i], r.Tracks));
                stats.Add(r.Stats);
            });

            var options = new CameraNetworkOptions
            {
                Matching = matching,
                Actor = Environment.UserName is { Length: > 0 } u ? $"cli:{u}" : "cli",
            };
            var identities = CameraNetwork.Identify(runs, gallery, options, stModel is null ? null : SpatialTemporalGate.CanBeSame(stModel));

            Print(runs, identities, stats);
            if (parse.GetValue(json) is { } jsonPath) WriteJson(jsonPath, runs, identities, stats, gallery, matching, parse.GetValue(st));
            return CliRunner.Ok;
        });
        return command;
    }

    private static void Print(List<CameraRun> runs, IReadOnlyList<NetworkIdentity> identities, List<ExtractionStats> stats)
    {
        for (int i = 0; i < runs.Count; i++)
            Console.WriteLine($"camera {runs[i].Video.Camera}: {runs[i].Tracks.Count} tracks from {stats[i].Frames} frames in {stats[i].WallSeconds:0.0} s");
        var table = new Table().AddColumns("identity", "name", "", "score", "tracks (camera:track frames)", "sightings stored");
        foreach (var p in identities)
            table.AddRow(p.IdentityId.ToString(), Markup.Escape(p.Name), p.IsNew ? "[green]new[/]" : "matched",
                p.Score is { } s ? s.ToString("0.000") : "",
                Markup.Escape(string.Join(", ", p.Tracks.Select(t => $"{t.Camera}:{t.TrackId} {t.Track.FirstFrame}-{t.Track.LastFrame}"))),
                p.StoredSightings.ToString());
        AnsiConsole.Write(table);
        Console.WriteLine($"{identities.Count} people: {identities.Count(p => p.IsNew)} new, {identities.Count(p => !p.IsNew)} re-identified from the gallery; " +
                          $"{identities.Sum(p => p.StoredSightings)} sightings stored");
    }

    private static void WriteJson(string path, List<CameraRun> runs, IReadOnlyList<NetworkIdentity> identities, List<ExtractionStats> stats,
        GalleryService gallery, CrossCameraConfig matching, string? st)
    {
        var identityOf = new Dictionary<PersonTrack, NetworkIdentity>(ReferenceEqualityComparer.Instance);
        foreach (var p in identities) foreach (var t in p.Tracks) identityOf[t.Track] = p;
        var document = new
        {
            gallery = gallery.Store.DataDirectory,
            model = gallery.Model.Id,
            link_distance = matching.MaxTrackDistance,
            known_distance = matching.MaxKnownDistance,
            spatial_temporal_model = st,
            videos = runs.Select((r, i) => new
            {
                camera = r.Video.Camera,
                path = r.Video.Path,
                start = r.Video.Start,
                from = r.Video.From,
                to = r.Video.To,
                frames = stats[i].Frames,
                wall_seconds = stats[i].WallSeconds,
                warning = stats[i].Warning,
            }),
            tracks = runs.SelectMany(r => r.Tracks.Select(t =>
            {
                var p = identityOf[t];
                return new
                {
                    camera = r.Video.Camera,
                    video = r.Video.Path,
                    track = t.Id,
                    first_frame = t.FirstFrame,
                    last_frame = t.LastFrame,
                    first_box = new[] { t.Observations[0].Box.X, t.Observations[0].Box.Y, t.Observations[0].Box.Width, t.Observations[0].Box.Height },
                    start = r.Video.At(t.StartTime),
                    end = r.Video.At(t.EndTime),
                    identity = p.IdentityId,
                    name = p.Name,
                    @new = p.IsNew,
                    score = p.Score,
                    sightings_stored = t.Crops.Count,
                };
            })),
            identities = identities.Select(p => new
            {
                identity = p.IdentityId,
                name = p.Name,
                @new = p.IsNew,
                score = p.Score,
                cameras = p.Tracks.Select(t => t.Camera).Distinct(),
                tracks = p.Tracks.Count,
                sightings_stored = p.StoredSightings,
            }),
        };
        Reid.Video.Output.TrackExport.WriteJson(path, document);
    }
}

/// <summary>Progress bars for video work: one per item, run one after the other; plain when not interactive.</summary>
internal static class VideoProgress
{
    public static void Run(IReadOnlyList<string> labels, Action<int, IProgress<double>> work)
    {
        if (Console.IsErrorRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            for (int i = 0; i < labels.Count; i++) work(i, new Progress<double>(_ => { }));
            return;
        }
        AnsiConsole.Progress().AutoClear(false).Start(ctx =>
        {
            var tasks = labels.Select(l => ctx.AddTask(Markup.Escape(l), autoStart: false, maxValue: 1.0)).ToList();
            for (int i = 0; i < labels.Count; i++)
            {
                var task = tasks[i];
                task.StartTask();
                work(i, new SyncProgress(v => task.Value = v));
                task.Value = 1.0;
                task.StopTask();
            }
        });
    }

    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
