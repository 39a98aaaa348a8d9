using Reid.Imaging;
using Reid.TestSupport;
using Reid.Video.Decoding;
using Reid.Video.Detectors;
using Reid.Video.Metrics;
using Reid.Video.Output;

namespace Reid.Video.Tests;

public class LetterboxTests
{
    [Fact]
    public void Yolox_letterbox_pads_bottom_right_and_maps_boxes_back()
    {
        var lb = Letterbox.Compute(640, 480, 416, 416, centred: false);
        Assert.Equal(0.65f, lb.Scale, 5);
        Assert.Equal((416, 312, 0, 0), (lb.ResizedWidth, lb.ResizedHeight, lb.PadX, lb.PadY));
        var back = lb.ToImage(new BoundingBox(65, 13, 26, 52));
        Assert.Equal(new BoundingBox(100, 20, 40, 80), back);
    }

    [Fact]
    public void Centred_letterbox_fills_pad_and_pixels_in_the_requested_channel_order()
    {
        var px = new byte[4 * 2 * 3];
        for (int i = 0; i < 8; i++) { px[3 * i] = 10; px[3 * i + 1] = 20; px[3 * i + 2] = 30; }
        var lb = Letterbox.Compute(4, 2, 4, 4, centred: true);
        Assert.Equal(1, lb.PadY);
        var chw = new float[3 * 16];
        lb.Fill(new RgbImage(4, 2, px), chw, bgr: true, scale: 1, pad: 114);
        Assert.Equal(114, chw[0]);          // top pad row
        Assert.Equal(30, chw[4]);           // plane 0 is blue for BGR, row 1
        Assert.Equal(20, chw[16 + 4]);
        Assert.Equal(10, chw[32 + 4]);
        Assert.Equal(114, chw[32 + 12]);    // bottom pad row
    }
}

public class OutputTests
{
    [Fact]
    public void Labels_and_boxes_are_drawn_in_place_and_clipped_at_the_edges()
    {
        var img = RgbImage.Blank(40, 30);
        FrameAnnotator.DrawBox(img, new BoundingBox(-5, 5, 20, 50), (255, 0, 0), 2);
        FrameAnnotator.DrawLabel(img, 30, 25, "ID 7", (0, 0, 255), 1);
        Assert.Equal((255, 0, 0), (img[10, 5].R, img[10, 5].G, img[10, 5].B));
        Assert.Equal((0, 0, 0), (img[5, 15].R, img[5, 15].G, img[5, 15].B)); // inside the box: untouched
        Assert.Equal(255, img[30, 25].B);
    }

    [Fact]
    public void Annotated_video_is_encoded_by_ffmpeg_and_readable_back()
    {
        using var dir = new TempDir();
        var path = dir.File("a.mp4");
        using (var enc = new VideoEncoder(path, 33, 21, 10)) // odd sizes are padded for H.264
        {
            for (int i = 0; i < 12; i++)
            {
                var f = RgbImage.Blank(33, 21);
                FrameAnnotator.DrawLabel(f, 1, 1, i.ToString(), (255, 255, 0), 1);
                enc.Write(f);
            }
            enc.Finish();
        }
        var info = FfmpegVideoSource.Probe(path);
        Assert.Equal(12, info.FrameCount);
        Assert.Equal(34, info.Width);
    }

    [Fact]
    public void Crops_are_named_frame_and_box_index_per_track()
    {
        using var dir = new TempDir();
        var obs = new TrackObservation(12, 0.48, new BoundingBox(0, 0, 4, 8), 0.9f, 3);
        var track = new PersonTrack(2, "cam A", [obs], [new TrackCrop(obs, RgbImage.Blank(4, 8))], [1f], 1);
        Assert.Equal(1, TrackExport.WriteCrops(dir.Path, [track]));
        Assert.True(File.Exists(Path.Combine(dir.Path, "cam_A_0002", "000012_03.jpg")));
        MotFile.Write(dir.File("t.txt"), MotFile.Rows([track]));
        Assert.StartsWith("12,2,0,0,4,8,0.9", File.ReadAllText(dir.File("t.txt")));
    }
}

public class VideoPersonExtractorTests
{
    [Fact]
    public void Without_a_detector_it_says_what_to_get_and_how_to_point_at_it()
    {
        var saved = Environment.GetEnvironmentVariable(VideoConfig.DetectorEnvironmentVariable);
        var savedCache = Environment.GetEnvironmentVariable("REID_MODELS_CACHE");
        try
        {
            Environment.SetEnvironmentVariable(VideoConfig.DetectorEnvironmentVariable, null);
            Environment.SetEnvironmentVariable("REID_MODELS_CACHE", "/nonexistent/reid-models");
            var e = Assert.Throws<Core.ReidException>(() => new VideoPersonExtractor(new VideoConfig()));
            Assert.Contains("REID_DETECTOR", e.Message);
            Assert.Contains("--detector", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(VideoConfig.DetectorEnvironmentVariable, saved);
            Environment.SetEnvironmentVariable("REID_MODELS_CACHE", savedCache);
        }
    }

    [SharedFact]
    public void Yolox_nano_finds_the_people_of_tud_stadtmitte()
    {
        var tud = SharedData.TudStadtmitte;
        using var detector = new PersonDetector(SharedData.YoloxNano, new DetectorConfig());
        var gt = MotFile.Read(Path.Combine(tud, "gt", "gt.txt"));
        var dets = new Dictionary<long, List<Detection>>();
        using var src = FrameSource.Open(tud, new FrameRange(1, 40, 3));
        foreach (var f in src.ReadFrames()) dets[f.Number] = detector.Detect(f.Image);
        Assert.Equal(YoloLayout.YoloxRaw, detector.Layout);
        var ap = DetectionEvaluator.AveragePrecision50(dets, gt.Where(r => dets.ContainsKey(r.Frame)).ToList());
        Assert.True(ap.AveragePrecision > 0.75, $"AP50 {ap.AveragePrecision}");
    }

    [SharedFact]
    public void The_tracker_gates_appearance_at_the_shipped_models_declared_threshold()
    {
        using var extractor = new VideoPersonExtractor(VideoConfig.LoadDefault(), SharedData.YoloxNano);
        var declared = extractor.Embedder.DeclaredThreshold!.Score; // the shipped model's sidecar
        Assert.Equal(1 - declared, extractor.TrackerSettings.AppearanceGate, 9);

        var msmt = new VideoConfig { Appearance = new AppearanceConfig { Model = SharedData.OsnetMsmt17 } };
        using var shared = new VideoPersonExtractor(msmt, SharedData.YoloxNano); // declares none: the DeepSORT-like 0.3
        Assert.Null(shared.Embedder.DeclaredThreshold);
        Assert.Equal(Tracking.TrackerConfig.FallbackMaxCosineDistance, shared.TrackerSettings.AppearanceGate);
    }

    [SharedFact]
    public void Tracks_tud_stadtmitte_with_normalised_embeddings_and_crops()
    {
        var tud = SharedData.TudStadtmitte;
        var config = new VideoConfig { Appearance = new AppearanceConfig { Model = SharedData.OsnetMsmt17 } };
        using var extractor = new VideoPersonExtractor(config, SharedData.YoloxNano);
        var result = extractor.ExtractDetailed(tud, new FrameRange(1, 60), "tud", null, CancellationToken.None);
        Assert.Equal(60, result.Stats.Frames);
        Assert.InRange(result.Tracks.Count, 4, 20);
        foreach (var t in result.Tracks)
        {
            Assert.Equal(1.0, Math.Sqrt(t.Embedding.Sum(x => (double)x * x)), 4);
            Assert.NotEmpty(t.Crops);
            Assert.True(t.Crops.Count <= config.Extraction.MaxCropsPerTrack);
            Assert.Equal(t.Observations.OrderBy(o => o.Frame).Select(o => o.Frame), t.Observations.Select(o => o.Frame));
        }
        var gt = MotFile.Read(Path.Combine(tud, "gt", "gt.txt")).Where(r => r.Frame <= 60).ToList();
        var m = MotEvaluator.Evaluate(gt, MotFile.Rows(result.Tracks).ToList());
        Assert.True(m.Mota > 0.55 && m.Idf1 > 0.65, $"MOTA {m.Mota} IDF1 {m.Idf1}");
    }
}
