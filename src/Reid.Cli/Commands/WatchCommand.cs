using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Reid.Core;
using Reid.Gallery;
using Reid.Gallery.Live;
using Reid.Gallery.Video;
using Reid.Inference;
using Reid.SpatialTemporal;
using Reid.Video;
using Reid.Video.CrossCamera;
using Reid.Video.Streams;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid watch --camera ID=URL … --data DIR`: run live cameras continuously, give every person a global identity
/// (an enrolled one, another camera's person, or a new one) and store the sightings, until Ctrl+C / SIGTERM or --duration.
/// </summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        var camera = new Option<string[]>("--camera") { Description = $"A camera, repeated: {CameraList.Syntax}", AllowMultipleArgumentsPerToken = false };
        var cameras = new Option<string?>("--cameras") { Description = "YAML camera list: cameras: [{id, url, max_fps, loop}, …]" };
        var data = new GalleryLocation(
            new Option<string?>("--data") { Description = "Gallery directory (SQLite); with --database: this node's local files" },
            new Option<string?>("--database") { Description = GalleryLocation.DatabaseHelp });
        var detector = new Option<string?>("--detector") { Description = "ONNX person detector (overrides the config and REID_DETECTOR)" };
        var model = new Option<string?>("--model") { Description = "ReID ONNX model, used for tracking and the gallery (default: the config's, else the project's default)" };
        var config = new Option<string?>("--config") { Description = "Video config YAML (default: configs/video.yaml)" };
        var st = new Option<string?>("--st") { Description = "Spatial-temporal model (`reid st learn`): vetoes links its travel times rule out" };
        var duration = new Option<double?>("--duration") { Description = "Stop after this many seconds (open tracks are finished and stored)" };
        var interim = new Option<double>("--interim") { Description = "Report a person still in view every this many seconds", DefaultValueFactory = _ => new LivePipelineOptions().InterimSeconds };
        var linkDistance = new Option<double>("--link-distance")
        { Description = "Largest cosine distance at which tracks of two cameras are taken for one person", DefaultValueFactory = _ => new OnlineAssociatorOptions().LinkDistance };
        var statusEvery = new Option<double>("--status-every") { Description = "Seconds between camera status lines", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Write one JSON object a line: every event and every camera status" };
        var worker = new Option<string?>("--worker") { Description = "With --database: this worker's name in the camera leases (default: host:pid)" };
        var leaseSeconds = new Option<double>("--lease-seconds")
        { Description = "With --database: a camera whose worker stops renewing passes to another after this long", DefaultValueFactory = _ => new LeasedWatchOptions().Ttl.TotalSeconds };
        var maxCameras = new Option<int?>("--max-cameras") { Description = "With --database: run at most this many of the shared cameras on this worker" };

        var webhook = new Option<string[]>("--webhook") { Description = "POST every event as signed JSON to this http(s) URL (repeatable; see src/Reid.Gallery/Live/README.md)" };
        var webhookSecret = new Option<string?>("--webhook-secret-file") { Description = $"File holding the webhooks' HMAC secret (else {Webhooks.SecretVariable}); required with --webhook" };

        var command = new Command("watch", "Follow people across live cameras: global identities and sightings stored in the gallery, until stopped");
        foreach (var o in new Option[] { camera, cameras, detector, model, config, st, duration, interim, linkDistance, statusEvery, json, webhook, webhookSecret, worker, leaseSeconds, maxCameras })
            command.Options.Add(o);
        command.Add(data);

        command.SetAction(parse =>
        {
            var given = (parse.GetValue(camera) ?? []).Select(CameraList.Parse).ToList();
            if (parse.GetValue(cameras) is { } file) given.AddRange(CameraList.Load(file));
            if (given.Count == 0) throw new ReidException("no camera: give --camera ID=URL (repeatable) or --cameras cameras.yaml");
            CameraList.Check(given);
            if (parse.GetValue(duration) is <= 0) throw new ReidException("--duration must be above 0 seconds");
            if (!(parse.GetValue(statusEvery) > 0)) throw new ReidException("--status-every must be above 0 seconds");
            var cfg = parse.GetValue(config) is { } c ? VideoConfig.Load(c) : VideoConfig.LoadDefault();
            var stModel = parse.GetValue(st) is { } stPath ? SpatialTemporalModel.Load(stPath) : null;
            var pipeline = new LivePipelineOptions { InterimSeconds = parse.GetValue(interim) };
            pipeline.Validate();
            var matching = new OnlineAssociatorOptions
            {
                LinkDistance = parse.GetValue(linkDistance),
                Actor = Environment.UserName is { Length: > 0 } u ? $"watch:{u}" : "watch",
            };

            var hub = new WatchEventHub();
            using var hooks = OpenWebhooks(parse.GetValue(webhook), parse.GetValue(webhookSecret), hub);
            var store = data.Open(parse);
            var shared = store as PostgresGalleryStore;
            if (shared is null && (parse.GetResult(worker) is { Implicit: false } || parse.GetResult(maxCameras) is { Implicit: false } || parse.GetResult(leaseSeconds) is { Implicit: false }))
                throw new ReidException("--worker, --lease-seconds and --max-cameras share cameras between workers: they need a PostgreSQL gallery (--database)");
            var leasing = new LeasedWatchOptions { Ttl = TimeSpan.FromSeconds(parse.GetValue(leaseSeconds)), MaxCameras = parse.GetValue(maxCameras) ?? int.MaxValue };
            leasing.Validate();
            // Workers on one PostgreSQL gallery decide identities as one: shared recent tracks, one decision at a time.
            using var ledger = shared?.TrackLedger();
            // One thread per camera at most: every camera's detector and the shared embedder run at once.
            cfg = cfg.ForStreams(Math.Min(given.Count, leasing.MaxCameras));
            using var embedding = GalleryModels.Open(parse.GetValue(model) ?? cfg.Appearance.Model,
                new EmbedderOptions(BatchSize: cfg.Appearance.BatchSize, IntraOpThreads: cfg.Appearance.Threads));
            var gallery = new GalleryService(store, embedding);
            var associator = new OnlineAssociator(gallery, matching, stModel is null ? null : SpatialTemporalGate.CanBeSame(stModel), ledger);
            // Each camera gets its own detector (not thread-safe); checked once here so a missing detector is one clear error.
            new VideoPersonExtractor(cfg, parse.GetValue(detector), embedding.Onnx).Dispose();

            using var cancel = new CancellationTokenSource();
            if (parse.GetValue(duration) is { } seconds) cancel.CancelAfter(TimeSpan.FromSeconds(seconds));
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCancel;
            // SIGTERM (systemd/docker stop, `kill`) stops as cleanly as Ctrl+C: open tracks are finished and stored.
            using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cancel.Cancel(); });
            bool asJson = parse.GetValue(json);
            var output = new Lock();
            int events = 0;
            if (!asJson) Console.Error.WriteLine($"reid: watching {given.Count} camera(s); next new identity {matching.NamePrefix}{associator.NextNumber:D4}; Ctrl+C stops");
            try
            {
                VideoPersonExtractor ExtractorFor(CameraSource _) => new(cfg, parse.GetValue(detector), embedding.Onnx);
                var watchOptions = new CameraWatchOptions { Pipeline = pipeline, StatusEvery = TimeSpan.FromSeconds(parse.GetValue(statusEvery)) };
                void OnEvent(AssociationEvent e) { hub.Publish(e); lock (output) { events++; Console.WriteLine(asJson ? LiveJson.Serialize(e) : EventLine(e)); Console.Out.Flush(); } }
                void OnStatus(IReadOnlyList<CameraStatus> status)
                {
                    lock (output)
                    {
                        foreach (var s in status) Console.WriteLine(asJson ? LiveJson.Serialize(s) : StatusLine(s));
                        foreach (var w in hooks?.Status ?? []) Console.WriteLine(asJson ? LiveJson.Serialize(w) : WebhookLine(w));
                        Console.Out.Flush();
                    }
                }
                if (shared is null)
                    CameraWatch.Run(given, ExtractorFor, associator, watchOptions, OnEvent, OnStatus, cancel.Token);
                else
                {
                    var name = parse.GetValue(worker) ?? $"{Environment.MachineName}:{Environment.ProcessId}";
                    LeasedCameraWatch.Run(shared.Leases(name, leasing.Ttl), given, ExtractorFor, associator, watchOptions, leasing, OnEvent, OnStatus,
                        l => { lock (output) { Console.WriteLine(asJson ? LiveJson.Serialize(LeaseEventDto.From(l)) : LeaseLine(l)); Console.Out.Flush(); } }, cancel.Token);
                }
            }
            finally { Console.CancelKeyPress -= onCancel; }
            // Events still queued for webhooks get a few seconds; what is left is counted as dropped in the last line.
            if (hooks is not null && !hooks.Drain(TimeSpan.FromSeconds(10)) && !asJson) Console.Error.WriteLine("reid: some webhook deliveries were still pending");
            foreach (var w in hooks?.Status ?? []) Console.WriteLine(asJson ? LiveJson.Serialize(w) : WebhookLine(w));
            if (!asJson) Console.Error.WriteLine($"reid: stopped; {events} event(s)");
            return CliRunner.Ok;
        });
        return command;
    }

    private static string EventLine(AssociationEvent e)
    {
        var what = e.Kind switch
        {
            AssociationKinds.NewIdentity => "new person",
            AssociationKinds.Link => $"linked from camera {e.LinkedCamera} track {e.LinkedTrack}",
            AssociationKinds.KnownSighting => "enrolled person",
            _ => "seen again",
        };
        var score = e.Score is { } s ? $" score {s.ToString("0.000", CultureInfo.InvariantCulture)}" : "";
        return $"{e.End:HH:mm:ss} {e.Camera} track {e.Track}: {e.Name} (#{e.IdentityId}) {what}{score}; {e.SightingsStored} sighting(s) stored";
    }

    private static string LeaseLine(LeaseEvent l) =>
        $"lease {l.Camera}: {l.Action} by {l.Worker}" + (l.Reason is null ? "" : $"; {l.Reason}");

    private static string StatusLine(CameraStatus s)
    {
        var st = s.Stream;
        var error = st.Status is StreamStatus.Live ? s.PipelineError : st.LastError ?? s.PipelineError;
        return $"status {st.Camera}: {ReidJsonName(st.Status)}, {s.ProcessedFps.ToString("0.0", CultureInfo.InvariantCulture)} fps processed, " +
               $"{st.FramesDecoded} decoded, {st.FramesDropped} dropped, {st.Reconnects} reconnect(s)" + (error is null ? "" : $"; {error}");
    }

    private static string WebhookLine(WebhookStatusDto w) =>
        $"webhook {w.Target}: {w.Delivered} delivered, {w.Failed} failed, {w.Dropped} dropped, {w.Retries} retries, {w.Queued} queued" +
        (w.LastError is null ? "" : $"; last error: {w.LastError}");

    /// <summary>`--webhook` targets on <paramref name="hub"/>, or null without any; a webhook without a secret is refused.</summary>
    internal static Webhooks? OpenWebhooks(string[]? urls, string? secretFile, WatchEventHub hub)
    {
        if (urls is not { Length: > 0 })
        {
            if (secretFile is not null) throw new ReidException("--webhook-secret-file is given without any --webhook");
            return null;
        }
        foreach (var u in urls) Webhooks.ParseUrl(u);
        var secret = Webhooks.ReadSecret(secretFile) ?? throw new ReidException(Webhooks.MissingSecret);
        return new Webhooks(urls, secret, hub: hub);
    }

    private static string ReidJsonName(StreamStatus s) => Core.Config.ConfigBinder.Name(s);
}
