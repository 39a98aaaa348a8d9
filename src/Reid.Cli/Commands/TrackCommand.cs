using System.CommandLine;
using Reid.Core;
using Reid.Video;
using Reid.Video.Decoding;
using Reid.Video.Metrics;
using Reid.Video.Output;
using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid track VIDEO|FOLDER --camera ID`: detect and track people in one video or MOT image-sequence
/// folder; optionally write crops, MOT text, JSON and an annotated MP4, and score against ground truth.
/// </summary>
internal static class TrackCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "A video file (any format ffmpeg reads) or a MOT image-sequence folder (img1/000001.jpg)" };
        var camera = new Option<string>("--camera") { Description = "Camera id recorded with the tracks", Required = true };
        var from = new Option<long?>("--from") { Description = "First frame (1-based, inclusive)" };
        var to = new Option<long?>("--to") { Description = "Last frame (1-based, inclusive)" };
        var step = new Option<int>("--step") { Description = "Process every K-th frame", DefaultValueFactory = _ => 1 };
        var detector = new Option<string?>("--detector") { Description = "ONNX person detector (overrides the config and REID_DETECTOR)" };
        var model = new Option<string?>("--model") { Description = "ReID ONNX model (default: the project's default model)" };
        var config = new Option<string?>("--config") { Description = "Video config YAML (default: configs/video.yaml)" };
        var output = new Option<string?>("--out") { Description = "Folder for crops/, tracks.txt (MOT), tracks.json and annotated.mp4" };
        var json = new Option<string?>("--json") { Description = "Write the tracks (and metrics with --gt) as JSON to this file" };
        var gt = new Option<string?>("--gt") { Description = "MOT ground truth (gt.txt): report MOTA, IDF1, HOTA, ID switches and person AP50" };
        var noAppearance = new Option<bool>("--no-appearance") { Description = "Track by motion only (the SORT/ByteTrack-like baseline)" };
        var noVideo = new Option<bool>("--no-video") { Description = "With --out, skip the annotated MP4" };
        var stitch = new Option<bool>("--stitch") { Description = "Join a lost track with a later track of the same person (extraction.stitch in the config)" };

        var command = new Command("track", "Detect and track people in a video or image sequence");
        command.Arguments.Add(input);
        foreach (var o in new Option[] { camera, from, to, step, detector, model, config, output, json, gt, noAppearance, noVideo, stitch })
            command.Options.Add(o);

        command.SetAction(parse =>
        {
            var path = parse.GetValue(input)!;
            if (!File.Exists(path) && !Directory.Exists(path)) throw new ReidException($"input not found: {path}");
            var cfg = parse.GetValue(config) is { } c ? VideoConfig.Load(c) : VideoConfig.LoadDefault();
            if (parse.GetValue(model) is { } m) cfg = cfg with { Appearance = cfg.Appearance with { Model = m } };
            if (parse.GetValue(noAppearance)) cfg = cfg with { Tracker = cfg.Tracker with { UseAppearance = false } };
            if (parse.GetValue(stitch)) cfg = cfg with { Extraction = cfg.Extraction with { Stitch = cfg.Extraction.Stitch with { Enabled = true } } };
            var range = new FrameRange(parse.GetValue(from), parse.GetValue(to), parse.GetValue(step));
            range.Validate();
            var gtPath = parse.GetValue(gt);
            var groundTruth = gtPath is null ? null : MotFile.Read(gtPath);
            var camId = parse.GetValue(camera)!;

            using var extractor = new VideoPersonExtractor(cfg, parse.GetValue(detector));
            VideoTracks result = null!;
            TrackingScore? score = null;
            RunWithProgress($"tracking {Path.GetFileName(Path.TrimEndingDirectorySeparator(path))}", p =>
                (result, score) = TrackingScore.Track(extractor, path, range, camId, groundTruth, p, CancellationToken.None));
            if (result.Stats.Warning is { } warning) Console.Error.WriteLine($"reid: warning: {warning}");
            var (metrics, hota, ap) = (score?.Mot, score?.Hota, score?.Detection);

            var s = result.Stats;
            Console.WriteLine($"{result.Tracks.Count} tracks from {s.Frames} frames of {path} (camera {camId})");
            Console.WriteLine($"time: {s.WallSeconds:0.0} s, {s.FramesPerSecond:0.0} frames/s — decode {s.DecodeSeconds:0.0} s, detect {s.DetectSeconds:0.0} s, " +
                              $"embed {s.EmbedSeconds:0.0} s ({s.EmbeddedCrops} crops), track {s.TrackSeconds:0.00} s");
            if (metrics is not null)
                Console.WriteLine($"MOTA {metrics.Mota:0.000}  IDF1 {metrics.Idf1:0.000}  HOTA {hota!.Hota:0.000} (DetA {hota.DetA:0.000}, AssA {hota.AssA:0.000})  ID switches {metrics.IdSwitches}  " +
                                  $"(FP {metrics.FalsePositives}, FN {metrics.FalseNegatives}, GT {metrics.GroundTruth})  person AP50 {ap!.AveragePrecision:0.000}");

            var extra = new
            {
                detector = extractor.DetectorPath,
                reid_model = extractor.EmbedderPath,
                appearance = cfg.Tracker.UseAppearance,
                stitch = cfg.Extraction.Stitch.Enabled ? cfg.Extraction.Stitch : null,
                detection_ap50 = ap?.AveragePrecision,
                from = range.From, to = range.To, step = range.Step,
            };
            var document = TrackExport.Document(result, metrics, extra, hota);
            if (parse.GetValue(json) is { } jsonPath) TrackExport.WriteJson(jsonPath, document);
            if (parse.GetValue(output) is { } outDir)
            {
                Directory.CreateDirectory(outDir);
                TrackExport.WriteJson(Path.Combine(outDir, "tracks.json"), document);
                MotFile.Write(Path.Combine(outDir, "tracks.txt"), MotFile.Rows(result.Tracks));
                int crops = TrackExport.WriteCrops(Path.Combine(outDir, "crops"), result.Tracks);
                if (!parse.GetValue(noVideo))
                    RunWithProgress("writing annotated.mp4", _ =>
                        TrackExport.WriteAnnotatedVideo(path, range, result.Tracks, Path.Combine(outDir, "annotated.mp4")));
                Console.WriteLine($"wrote {outDir}: tracks.txt, tracks.json, {crops} crops" + (parse.GetValue(noVideo) ? "" : ", annotated.mp4"));
            }
            return CliRunner.Ok;
        });
        return command;
    }

    private static void RunWithProgress(string label, Action<IProgress<double>> work) =>
        VideoProgress.Run([label], (_, p) => work(p));
}
