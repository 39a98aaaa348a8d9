using System.Globalization;
using Reid.Core;

namespace Reid.Video.Decoding;

/// <summary>
/// A stretch of a video as a person asks for it: 1-based inclusive frames, or seconds from the start (frame 1 is
/// at 0 s, frame n at (n − 1) / rate), never both. <see cref="Resolve"/> checks it against the probed video and
/// gives the <see cref="FrameRange"/> the extractor reads, so a range past the end is refused up front rather than
/// discovered as an empty or failed job.
/// </summary>
public sealed record RangeRequest(long? FromFrame = null, long? ToFrame = null, double? FromSeconds = null, double? ToSeconds = null)
{
    public bool InFrames => FromFrame is not null || ToFrame is not null;
    public bool InSeconds => FromSeconds is not null || ToSeconds is not null;

    /// <summary>Refuses a range given both in frames and in seconds: which would win is a guess.</summary>
    public void CheckOneUnit()
    {
        if (InFrames && InSeconds)
            throw new ReidException($"the range is given both in frames ({Describe(FromFrame, ToFrame)}) and in seconds ({Describe(FromSeconds, ToSeconds)}): give one or the other");
    }

    /// <summary>The frames to read, or a <see cref="ReidException"/> saying what is wrong with the range.</summary>
    public FrameRange Resolve(VideoInfo video)
    {
        CheckOneUnit();
        var length = video.FrameCount is { } n
            ? string.Create(CultureInfo.InvariantCulture, $"{n} frames, {video.Duration:0.###} s at {video.FramesPerSecond:0.###} frames/s")
            : "length unknown";
        long? from = FromFrame, to = ToFrame;
        if (InSeconds)
        {
            foreach (var (name, s) in new[] { ("from_time", FromSeconds), ("to_time", ToSeconds) })
                if (s is { } v && (!double.IsFinite(v) || v < 0))
                    throw new ReidException($"{name} must be a time in seconds ≥ 0 (frame 1 is at 0 s), got {v.ToString(CultureInfo.InvariantCulture)}");
            if (FromSeconds is { } a && video.Duration is { } d1 && a >= d1)
                throw new ReidException(string.Create(CultureInfo.InvariantCulture, $"from_time {a} s is past the end of the video ({length})"));
            // The end of the video (its duration) is a valid end of a range: it means "through the last frame".
            if (ToSeconds is { } b && video.Duration is { } d2 && b > d2 + 0.5 / video.FramesPerSecond)
                throw new ReidException(string.Create(CultureInfo.InvariantCulture, $"to_time {b} s is past the end of the video ({length})"));
            from = FromSeconds is { } f ? video.FrameAt(f) : null;
            to = ToSeconds is { } t ? video.FrameAt(t) : null;
            if (to is not null && video.FrameCount is { } last) to = Math.Min(to.Value, last);
            if (FromSeconds is { } f2 && ToSeconds is { } t2 && t2 < f2)
                throw new ReidException(string.Create(CultureInfo.InvariantCulture, $"to_time {t2} s is before from_time {f2} s"));
        }
        else
        {
            if (from is < 1) throw new ReidException($"'from' must be a frame number counted from 1 (the first frame is 1), got {from}");
            if (to is < 1) throw new ReidException($"'to' must be a frame number counted from 1 (the first frame is 1), got {to}");
            if (video.FrameCount is { } last)
            {
                if (from > last) throw new ReidException($"from frame {from} is past the end of the video ({length})");
                if (to > last) throw new ReidException($"to frame {to} is past the end of the video ({length})");
            }
        }
        if (from is not null && to is not null && to < from) throw new ReidException($"to frame {to} is before from frame {from}");
        return new FrameRange(from, to);
    }

    private static string Describe<T>(T? from, T? to) where T : struct, IFormattable =>
        string.Join(", ", new[] { from is { } a ? "from " + a.ToString(null, CultureInfo.InvariantCulture) : null,
            to is { } b ? "to " + b.ToString(null, CultureInfo.InvariantCulture) : null }.Where(x => x is not null));
}
