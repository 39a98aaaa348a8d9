using System.Globalization;
using Reid.Data;
using Reid.Imaging;

namespace Reid.Video.Mining;

/// <summary>What mining one video gave: the tracks found, the crops stored, or that it was mined before.</summary>
public sealed record MinedVideo(string Video, bool AlreadyMined, int Tracks, int Crops, int FlawedCropsLeftOut);

/// <summary>
/// Unlabelled person crops for self-supervised pre-training, mined from videos: the detector and tracker of
/// <see cref="VideoPersonExtractor"/> (the same pipeline and config as `reid track`), each track's usable crops
/// (crop quality: no frame-border cuts, truncated bodies, blur or occlusion) stored in a <see cref="CropStore"/> with
/// their track, frame and box. A video already in the store (same path and size) is skipped, so mining resumes.
/// </summary>
public static class CropMiner
{
    public static MinedVideo Mine(VideoPersonExtractor extractor, string video, CropStore store, IProgress<double>? progress = null,
        CancellationToken ct = default)
    {
        var path = Path.GetFullPath(video);
        var bytes = new FileInfo(path).Length;
        if (store.HasSource(path, bytes)) return new MinedVideo(video, true, 0, 0, 0);
        var tracks = extractor.Extract(path, null, null, progress, ct);
        var usable = tracks.SelectMany(t => t.Crops.Where(c => c.Usable).Select(c => (Track: t.Id, Crop: c))).ToList();
        var flawed = tracks.Sum(t => t.Crops.Count) - usable.Count;
        store.AddSource(path, bytes, usable.Select(x =>
        {
            var b = x.Crop.Observation.Box;
            var box = string.Create(CultureInfo.InvariantCulture, $"{b.X:0},{b.Y:0},{b.Width:0},{b.Height:0}");
            return (new CropOrigin(path, x.Track, x.Crop.Observation.Frame, box), ImageCodec.EncodeJpeg(x.Crop.Image, 92));
        }));
        return new MinedVideo(video, false, tracks.Count, usable.Count, flawed);
    }
}
