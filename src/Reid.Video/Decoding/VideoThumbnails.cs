using System.Globalization;
using Reid.Core;
using Reid.Imaging;

namespace Reid.Video.Decoding;

/// <summary>One small JPEG frame of a video's timeline: its 1-based frame number, its time (s) and its pixels.</summary>
public sealed record VideoThumbnail(long Frame, double Time, int Width, int Height, byte[] Jpeg);

/// <summary>
/// A strip of evenly spaced thumbnails for choosing a range: thumbnail i shows the middle frame of the i-th of
/// <c>count</c> equal parts of the video, so the strip reads as a timeline whose cells each stand for a part.
/// Each is one ffmpeg seek (-ss before -i, which ffmpeg makes frame-exact by decoding from the previous key frame)
/// rather than one decode of the whole file: a long video costs count short decodes, not its full length.
/// </summary>
public static class VideoThumbnails
{
    public static IReadOnlyList<VideoThumbnail> Extract(VideoInfo video, int count = 10, int height = 72, CancellationToken ct = default)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count));
        var frames = video.FrameCount ?? throw new ReidException($"{Path.GetFileName(video.Path)}: the video's length is unknown, so it has no timeline");
        height = Math.Min(height, video.Height);
        // even width: some scalers and encoders refuse odd sizes
        var width = Math.Max(2, (int)Math.Round(height * (double)video.Width / video.Height / 2) * 2);
        var numbers = Enumerable.Range(0, (int)Math.Min(count, frames))
            .Select(i => 1 + (long)Math.Floor((i + 0.5) * frames / Math.Min(count, frames))).Distinct().ToList();
        var list = new List<VideoThumbnail>(numbers.Count);
        foreach (var frame in numbers)
        {
            ct.ThrowIfCancellationRequested();
            var image = Decode(video, frame, width, height);
            list.Add(new VideoThumbnail(frame, video.TimeOf(frame), width, height, ImageCodec.EncodeJpeg(image, 80)));
        }
        return list;
    }

    /// <summary>Frame <paramref name="frame"/> (1-based) scaled to width x height.</summary>
    public static RgbImage Decode(VideoInfo video, long frame, int width, int height)
    {
        var at = video.TimeOf(frame).ToString("0.######", CultureInfo.InvariantCulture);
        using var p = FfmpegVideoSource.Start(Tools.FfmpegPath, [
            "-nostdin", "-v", "error", "-noautorotate", "-ss", at, "-i", video.Path, "-map", "0:v:0", "-an", "-sn",
            "-frames:v", "1", "-vf", $"scale={width}:{height}:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
        var stderr = p.StandardError.ReadToEndAsync();
        var pixels = new byte[checked(3 * width * height)];
        var got = 0;
        var stdout = p.StandardOutput.BaseStream;
        while (got < pixels.Length && stdout.Read(pixels, got, pixels.Length - got) is var n and > 0) got += n;
        stdout.CopyTo(Stream.Null);
        p.WaitForExit();
        if (got < pixels.Length)
        {
            var why = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
            throw new ReidException($"{Path.GetFileName(video.Path)}: frame {frame} could not be decoded ({why ?? $"ffmpeg exit code {p.ExitCode}"})");
        }
        return new RgbImage(width, height, pixels);
    }
}
