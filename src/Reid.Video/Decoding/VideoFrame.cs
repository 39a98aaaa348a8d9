using Reid.Imaging;

namespace Reid.Video.Decoding;

/// <summary>
/// One decoded frame: its 1-based frame number in the source (the MOT convention: the first frame is 1),
/// its time in seconds from the start of the source, and its pixels.
/// </summary>
public sealed record VideoFrame(long Number, double Timestamp, RgbImage Image);

/// <summary>
/// What a source knows before decoding: frame size, rate and (when known) frame count. Frame n (from 1) is shown
/// at (n − 1) / rate seconds, so frame 1 is at time 0 and the video lasts FrameCount / rate seconds.
/// </summary>
public sealed record VideoInfo(string Path, int Width, int Height, double FramesPerSecond, long? FrameCount)
{
    /// <summary>FrameCount / rate: the time just after the last frame; null when the length is unknown.</summary>
    public double? Duration => FrameCount / FramesPerSecond;

    /// <summary>When frame <paramref name="frame"/> (1-based) is shown, in seconds from the start.</summary>
    public double TimeOf(long frame) => (frame - 1) / FramesPerSecond;

    /// <summary>The frame on screen at <paramref name="seconds"/> from the start (1-based): the inverse of <see cref="TimeOf"/>.</summary>
    public long FrameAt(double seconds) => (long)Math.Floor(seconds * FramesPerSecond + 1e-6) + 1;
}

/// <summary>
/// Which frames to read: 1-based inclusive numbers <c>From</c>..<c>To</c> (null = start / end) and every
/// <c>Step</c>-th frame from <c>From</c>.
/// </summary>
public sealed record FrameRange(long? From = null, long? To = null, int Step = 1)
{
    public static readonly FrameRange All = new();

    public long First => From ?? 1;

    public void Validate()
    {
        if (From is < 1) throw new Core.ReidException($"--from must be a frame number ≥ 1 (frames are numbered from 1), got {From}");
        if (To is < 1) throw new Core.ReidException($"--to must be a frame number ≥ 1, got {To}");
        if (From is not null && To is not null && To < From) throw new Core.ReidException($"--to ({To}) is before --from ({From})");
        if (Step < 1) throw new Core.ReidException($"--step must be ≥ 1, got {Step}");
    }

    public bool Contains(long number) => number >= First && (To is null || number <= To) && (number - First) % Step == 0;
}

/// <summary>
/// A source of frames: a video file decoded by ffmpeg or a MOT-style image-sequence folder. Reading stops
/// early, without throwing, when the source turns out to be truncated or broken; <see cref="Warning"/> then
/// says what happened and how many frames were read.
/// </summary>
public interface IFrameSource : IDisposable
{
    VideoInfo Info { get; }

    /// <summary>How many frames the range will yield, when the source knows its length.</summary>
    long? ExpectedFrames { get; }

    IEnumerable<VideoFrame> ReadFrames(CancellationToken ct = default);

    /// <summary>Set when reading stopped before the expected end (truncated or corrupt input).</summary>
    string? Warning { get; }
}
