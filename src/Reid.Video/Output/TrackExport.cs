using System.Globalization;
using System.Text.Json;
using Reid.Core;
using Reid.Imaging;
using Reid.Video.Decoding;
using Reid.Video.Metrics;

namespace Reid.Video.Output;

/// <summary>Writes tracks as MOT text, JSON, per-track crops and an annotated video.</summary>
public static class TrackExport
{
    /// <summary>Crops as <c>DIR/&lt;camera&gt;_&lt;track&gt;/NNNNNN_BB.jpg</c> (frame number, box index in that frame).</summary>
    public static int WriteCrops(string dir, IEnumerable<PersonTrack> tracks, int jpegQuality = 90)
    {
        int n = 0;
        foreach (var t in tracks)
        {
            var folder = Path.Combine(dir, $"{Safe(t.Camera ?? "cam")}_{t.Id:0000}");
            Directory.CreateDirectory(folder);
            foreach (var c in t.Crops)
            {
                File.WriteAllBytes(Path.Combine(folder, $"{c.Observation.Frame:000000}_{c.Observation.BoxIndex:00}.jpg"),
                    ImageCodec.EncodeJpeg(c.Image, jpegQuality));
                n++;
            }
        }
        return n;
    }

    private static string Safe(string s) => string.Concat(s.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_'));


    /// <summary>The JSON document of one video's tracks (embeddings included), plus optional metrics.</summary>
    public static object Document(VideoTracks v, MotMetrics? metrics, object? extra = null, HotaMetrics? hota = null) => new
    {
        video = v.Video.Path,
        camera = v.Camera,
        width = v.Video.Width,
        height = v.Video.Height,
        fps = v.Video.FramesPerSecond,
        frames = v.Stats.Frames,
        warning = v.Stats.Warning,
        timing = new
        {
            wall_seconds = v.Stats.WallSeconds,
            frames_per_second = v.Stats.FramesPerSecond,
            decode_seconds = v.Stats.DecodeSeconds,
            detect_seconds = v.Stats.DetectSeconds,
            embed_seconds = v.Stats.EmbedSeconds,
            track_seconds = v.Stats.TrackSeconds,
            detections = v.Stats.Detections,
            embedded_crops = v.Stats.EmbeddedCrops,
        },
        mota = metrics?.Mota,
        idf1 = metrics?.Idf1,
        id_switches = metrics?.IdSwitches,
        hota = hota?.Hota,
        metrics,
        hota_metrics = hota is null ? null : new
        {
            hota = hota.Hota, det_a = hota.DetA, ass_a = hota.AssA, loc_a = hota.LocA,
            alphas = HotaEvaluator.Alphas,
            hota_per_alpha = hota.HotaPerAlpha, det_a_per_alpha = hota.DetAPerAlpha, ass_a_per_alpha = hota.AssAPerAlpha,
        },
        extra,
        tracks = v.Tracks.Select(t => new
        {
            id = t.Id,
            camera = t.Camera,
            first_frame = t.FirstFrame,
            last_frame = t.LastFrame,
            start_time = t.StartTime,
            end_time = t.EndTime,
            embedding_count = t.EmbeddingCount,
            embedding = t.Embedding,
            observations = t.Observations.Select(o => new
            {
                frame = o.Frame, t = Math.Round(o.Timestamp, 4), box_index = o.BoxIndex,
                box = new[] { R(o.Box.X), R(o.Box.Y), R(o.Box.Width), R(o.Box.Height) }, score = R(o.Score),
            }),
        }),
    };

    private static double R(float v) => Math.Round(v, 2);

    public static void WriteJson(string path, object document)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(path, JsonSerializer.Serialize(document, ReidJson.CompactWithoutNulls));
    }

    /// <summary>
    /// Decodes the same frames again and writes them with each track's box, id and (optional) identity
    /// name drawn on, encoded by ffmpeg.
    /// </summary>
    public static void WriteAnnotatedVideo(string videoPath, FrameRange range, IReadOnlyList<PersonTrack> tracks, string outPath,
        IReadOnlyDictionary<int, string>? names = null, CancellationToken ct = default)
    {
        var byFrame = tracks.SelectMany(t => t.Observations.Select(o => (t.Id, o)))
            .GroupBy(x => x.o.Frame).ToDictionary(g => g.Key, g => g.ToList());
        using var source = FrameSource.Open(videoPath, range);
        using var encoder = new VideoEncoder(outPath, source.Info.Width, source.Info.Height, source.Info.FramesPerSecond / range.Step);
        int scale = Math.Max(1, source.Info.Height / 360);
        foreach (var frame in source.ReadFrames(ct))
        {
            if (byFrame.TryGetValue(frame.Number, out var items))
                foreach (var (id, o) in items)
                {
                    var colour = FrameAnnotator.ColourOf(id);
                    FrameAnnotator.DrawBox(frame.Image, o.Box, colour, 2 * scale);
                    var label = names is not null && names.TryGetValue(id, out var name) ? $"{id} {name}" : id.ToString(CultureInfo.InvariantCulture);
                    int labelHeight = (BitmapFont.GlyphHeight + 2) * 2 * scale;
                    FrameAnnotator.DrawLabel(frame.Image, (int)o.Box.X, Math.Max(0, (int)o.Box.Y - labelHeight), label, colour, 2 * scale);
                }
            encoder.Write(frame.Image);
        }
        encoder.Finish();
    }
}
