using System.Globalization;
using System.Text.RegularExpressions;
using Reid.Core;
using Reid.Imaging;

namespace Reid.Video.Decoding;

/// <summary>
/// A MOTChallenge-style image-sequence folder: <c>img1/000001.jpg|png</c> (or the images directly in the
/// folder), frame number = the number in the file name, frame rate from <c>seqinfo.ini</c> (25 when absent).
/// An unreadable image ends the sequence there with a warning, keeping the frames before it.
/// </summary>
public sealed partial class ImageSequenceSource : IFrameSource
{
    private readonly List<(long Number, string Path)> _files;
    public VideoInfo Info { get; }
    public long? ExpectedFrames => _files.Count;
    public string? Warning { get; private set; }

    public ImageSequenceSource(string folder, FrameRange? range = null)
    {
        var r = range ?? FrameRange.All;
        r.Validate();
        if (!Directory.Exists(folder)) throw new ReidException($"image-sequence folder not found: {folder}");
        var imageDir = Directory.Exists(Path.Combine(folder, "img1")) ? Path.Combine(folder, "img1") : folder;
        var all = Directory.EnumerateFiles(imageDir)
            .Select(p => (Match: FrameName().Match(Path.GetFileName(p)), Path: p))
            .Where(x => x.Match.Success)
            .Select(x => (Number: long.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture), x.Path))
            .OrderBy(x => x.Number).ToList();
        if (all.Count == 0) throw new ReidException($"no frames (000001.jpg or .png) in {imageDir}");
        _files = all.Where(x => r.Contains(x.Number)).ToList();
        if (_files.Count == 0) throw new ReidException($"no frames of {imageDir} fall in the range {r.First}..{r.To?.ToString() ?? "end"}");
        var seq = ReadSeqInfo(Path.Combine(folder, "seqinfo.ini"));
        double fps = seq.TryGetValue("frameRate", out var f) && double.TryParse(f, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : 25;
        var first = ImageCodec.Decode(_files[0].Path);
        Info = new VideoInfo(folder, first.Width, first.Height, fps, all.Count);
    }

    public IEnumerable<VideoFrame> ReadFrames(CancellationToken ct = default)
    {
        long read = 0;
        foreach (var (number, path) in _files)
        {
            if (ct.IsCancellationRequested) yield break;
            RgbImage image;
            try
            {
                image = ImageCodec.Decode(path);
                if (image.Width != Info.Width || image.Height != Info.Height)
                    throw new ImageDecodeException(path, $"is {image.Width}x{image.Height}, the sequence is {Info.Width}x{Info.Height}");
            }
            catch (ImageDecodeException e)
            {
                Warning = $"stopped after {read} of {_files.Count} frames: {e.Message}; the frames read so far were kept";
                if (read == 0) throw;
                yield break;
            }
            read++;
            yield return new VideoFrame(number, (number - 1) / Info.FramesPerSecond, image);
        }
    }

    private static Dictionary<string, string> ReadSeqInfo(string path)
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (!File.Exists(path)) return d;
        foreach (var line in File.ReadLines(path))
        {
            int eq = line.IndexOf('=');
            if (eq > 0) d[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
        return d;
    }

    public void Dispose() { }

    [GeneratedRegex(@"^(\d+)\.(jpe?g|png)$", RegexOptions.IgnoreCase)]
    private static partial Regex FrameName();
}

/// <summary>Opens a video file (ffmpeg) or an image-sequence folder, whichever the path is.</summary>
public static class FrameSource
{
    public static IFrameSource Open(string path, FrameRange? range = null) =>
        Directory.Exists(path) ? new ImageSequenceSource(path, range) : new FfmpegVideoSource(path, range);
}
