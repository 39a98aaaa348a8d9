using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Reid.Core;
using Reid.Gallery;
using Reid.Inference;
using Reid.Video;
using Reid.Server;

namespace Reid.Cli.Commands;

/// <summary>`reid serve`: the HTTP API and web UI over a gallery directory (loopback only unless --urls says otherwise).</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Gallery directory (created if missing); with --database: this node's local files (admin key, uploads)", DefaultValueFactory = _ => "gallery-data" };
        var database = new Option<string?>("--database") { Description = GalleryLocation.DatabaseHelp };
        var urls = new Option<string>("--urls") { Description = "Where to listen", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var model = new Option<string?>("--model") { Description = "ReID model (.onnx); default: the project's default model" };
        var jsonLogs = new Option<bool>("--json-logs") { Description = "Structured JSON log lines" };
        var detector = new Option<string?>("--detector") { Description = "Person detector (.onnx, YOLO family) for video uploads; else REID_DETECTOR or configs/video.yaml" };
        var rate = new Option<int>("--rate") { Description = "Sustained requests per second per API key", DefaultValueFactory = _ => 200 };
        var st = new Option<string?>("--st") { Description = "Travel-time model (reid st learn): identify/search requests with 'camera' and 'time' fields rescale scores by it" };
        var watch = new Option<string?>("--watch") { Description = "YAML camera list (as `reid watch --cameras`): the server also watches these cameras; events at /api/events and in the Live tab" };
        var webhook = new Option<string[]>("--webhook") { Description = "With --watch: POST every event as signed JSON to this http(s) URL (repeatable)" };
        var webhookSecret = new Option<string?>("--webhook-secret-file") { Description = $"File holding the webhooks' HMAC secret (else {Reid.Gallery.Live.Webhooks.SecretVariable})" };
        var command = new Command("serve", "Run the gallery's HTTP API and web UI (enrol, verify, identify, search, browse)")
            { data, database, urls, model, jsonLogs, rate, detector, st, watch, webhook, webhookSecret };
        command.SetAction(parse =>
        {
            var dataDir = parse.GetValue(data)!;
            var travelTimes = parse.GetValue(st) is { } stPath ? Reid.SpatialTemporal.SpatialTemporalModel.Load(stPath) : null;
            var options = new ServerOptions(dataDir, parse.GetValue(urls)!, PermitsPerSecond: parse.GetValue(rate),
                Burst: 2 * parse.GetValue(rate), JsonLogs: parse.GetValue(jsonLogs));
            // With cameras to watch, the model is shared by every camera thread and the API: one camera's share of the cores each.
            var cameras = parse.GetValue(watch) is { } camerasFile ? Reid.Video.Streams.CameraList.Check(Reid.Video.Streams.CameraList.Load(camerasFile)) : null;
            var cfg = cameras is null ? VideoConfig.LoadDefault() : VideoConfig.LoadDefault().ForStreams(cameras.Count);
            using var embedding = GalleryModels.Open(parse.GetValue(model), new EmbedderOptions(IntraOpThreads: cfg.Appearance.Threads));
            var store = GalleryStore.Open(dataDir, parse.GetValue(database));
            Directory.CreateDirectory(store.DataDirectory);
            var gallery = new GalleryService(store, embedding);
            var admin = ApiKeys.EnsureAdminKey(gallery.Store);
            using var video = OpenVideo(gallery, parse.GetValue(detector), out var videoNote);
            if (parse.GetValue(watch) is null && parse.GetValue(webhook) is { Length: > 0 })
                throw new ReidException("--webhook needs --watch: without cameras there are no events to send");
            var hub = new Reid.Gallery.Live.WatchEventHub();
            using var hooks = WatchCommand.OpenWebhooks(parse.GetValue(webhook), parse.GetValue(webhookSecret), hub);
            var watchNote = "off (--watch cameras.yaml follows live cameras: Live tab, /api/events)";
            var live = cameras is not null
                ? OpenWatch(parse.GetValue(watch)!, cameras, cfg, gallery, parse.GetValue(detector), travelTimes, hub, hooks, out watchNote)
                : new LiveHost(hub);
            var signIn = new SignInLinks();
            var app = ReidServer.Build(options, gallery, video, travelTimes, signIn, live);
            app.Start();
            var keyPath = Path.Combine(gallery.Store.DataDirectory, ApiKeys.AdminKeyFile);
            Console.WriteLine($"reid serve: gallery {gallery.Store.Location} ({gallery.Store.CountIdentities()} identities, {gallery.Index.Count} sightings indexed)");
            Console.WriteLine($"model     : {embedding.Id} ({embedding.Dimension}-d)");
            if (GalleryCommand.UnembeddedWarning(gallery) is { } warning) Console.WriteLine($"warning   : {warning}");
            Console.WriteLine(admin is null
                ? $"API keys  : as before (this node's is in {keyPath} unless removed; more with `reid gallery keys add`)"
                : gallery.Store.ListApiKeys().Count == 1
                    ? $"admin key : {admin}  (new gallery: saved to {keyPath}; create more with `reid gallery keys add`)"
                    : $"admin key : {admin}  (this node's own key on the shared gallery: saved to {keyPath}; revoke with `reid gallery keys revoke`)");
            var threshold = gallery.ResolveThreshold();
            Console.WriteLine($"threshold : {threshold.Score:F4} ({threshold.Source})");
            Console.WriteLine($"video     : {videoNote}");
            Console.WriteLine($"watch     : {watchNote}");
            Console.WriteLine($"travel    : {(travelTimes is null ? "none (identify/search use appearance only; --st MODEL adds travel times)" : $"{parse.GetValue(st)} ({travelTimes.Cameras.Count} cameras)")}");
            foreach (var address in ReidServer.BoundAddresses(app)) Console.WriteLine($"listening : {address}  (web UI at {address}/)");
            if (ReidServer.BoundAddresses(app).FirstOrDefault() is { } first)
                Console.WriteLine($"sign in   : {first}/#signin={signIn.Issue()}  (opens the web UI signed in; one use, valid {signIn.Lifetime.TotalMinutes:0} minutes)");
            app.WaitForShutdown();
            // The watcher has stopped and stored its open tracks; its last events get a few seconds to reach the webhooks.
            hooks?.Drain(TimeSpan.FromSeconds(5));
            return CliRunner.Ok;
        });
        return command;
    }

    /// <summary>`--watch cameras.yaml`: the cameras, a detector for each (checked once here, one clear error), the associator over
    /// the server's gallery and model; the server's hosted service runs it.</summary>
    private static LiveHost OpenWatch(string camerasFile, IReadOnlyList<Reid.Video.Streams.CameraSource> cameras, VideoConfig cfg,
        GalleryService gallery, string? detector, Reid.SpatialTemporal.SpatialTemporalModel? travelTimes,
        Reid.Gallery.Live.WatchEventHub hub, Reid.Gallery.Live.Webhooks? hooks, out string note)
    {
        new VideoPersonExtractor(cfg, detector, gallery.Model.Onnx).Dispose();
        // On a shared PostgreSQL gallery the server is one more worker: cameras by lease, identities decided with the others.
        var shared = gallery.Store as PostgresGalleryStore;
        var associator = new Reid.Gallery.Video.OnlineAssociator(gallery,
            new Reid.Gallery.Video.OnlineAssociatorOptions { Actor = "serve:watch" },
            travelTimes is null ? null : Reid.Video.CrossCamera.SpatialTemporalGate.CanBeSame(travelTimes), shared?.TrackLedger());
        var leases = shared?.Leases($"{Environment.MachineName}:{Environment.ProcessId}", new Reid.Gallery.Video.LeasedWatchOptions().Ttl);
        var frames = new Reid.Gallery.Live.LiveFrames();
        hub.Expect(cameras.Select(c => c.Id));
        note = $"{cameras.Count} camera(s) from {camerasFile} ({string.Join(", ", cameras.Select(c => c.Id))}); " +
               $"next new identity person-{associator.NextNumber:D4}" + (hooks is null ? "" : $"; {hooks.Status.Count} webhook(s)") +
               (leases is null ? "" : $"; shared with other workers by lease as {leases.Worker}");
        return new LiveHost(hub, frames, ct => Reid.Gallery.Live.LiveWatch.Run(cameras, _ => new VideoPersonExtractor(cfg, detector, gallery.Model.Onnx),
            associator, new Reid.Gallery.Video.CameraWatchOptions { StatusEvery = TimeSpan.FromSeconds(1) }, hub, frames, ct, leases,
            l => Console.WriteLine($"lease     : {l.Camera} {l.Action}" + (l.Reason is null ? "" : $" ({l.Reason})"))), hooks);
    }

    /// <summary>Video uploads need a person detector; without one the server runs for images only and says why.</summary>
    internal static VideoJobs? OpenVideo(GalleryService gallery, string? detector, out string note)
    {
        try
        {
            var extractor = new VideoPersonExtractor(VideoConfig.LoadDefault(), detector, gallery.Model.Onnx);
            note = $"enabled (detector {extractor.DetectorPath})";
            return new VideoJobs(gallery, () => extractor);
        }
        catch (ReidException e)
        {
            note = $"disabled: {e.Message}";
            return null;
        }
    }
}
