namespace Reid.Video.Streams;

/// <summary>
/// A track reported by a <see cref="LiveCameraPipeline"/>: the person so far (<see cref="Final"/> false: it is
/// still being followed and later reports of the same camera and track id supersede this one) or for good
/// (the tracker let it go, or the pipeline stopped). <see cref="Origin"/> is the wall-clock time of frame time 0:
/// the Unix epoch for live sources (their frame times are the wall clock), the start of playback for files.
/// <see cref="ReportFrameTime"/> is the frame time of the frame whose processing produced the report (what a
/// frame-to-event latency is measured from).
/// </summary>
public sealed record LiveTrack(string Camera, PersonTrack Track, bool Final, DateTimeOffset Origin, double? ReportFrameTime = null)
{
    /// <summary>Wall-clock time of the frame whose processing produced this report.</summary>
    public DateTimeOffset? Reported => ReportFrameTime is { } t ? At(t) : null;

    /// <summary>Wall-clock time of a frame time of this track.</summary>
    public DateTimeOffset At(double frameTime) => Origin.AddSeconds(frameTime);

    public DateTimeOffset Start => At(Track.StartTime);
    public DateTimeOffset End => At(Track.EndTime);
}
