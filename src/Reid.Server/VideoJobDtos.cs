namespace Reid.Server;

// The JSON shapes of video-job answers (snake_case through ReidJson). Only the server runs video jobs, so they live
// here rather than in Reid.Gallery.Api, which holds the shapes the CLI writes too.

/// <summary>A video job: its timeline as soon as it is uploaded; progress; when done, the person tracks.</summary>
/// <param name="State">queued, probed (waiting for a range), running, done or failed</param>
public sealed record VideoJobDto(string Id, string Video, string State, double Progress, string? Error, TimelineDto Timeline, RangeDto? Range,
    IReadOnlyList<VideoTrackDto> Tracks);

/// <summary>What ffprobe says of the video, and thumbnails evenly spread over it.</summary>
public sealed record TimelineDto(int Width, int Height, double Fps, long? Frames, double? Duration, string Numbering,
    IReadOnlyList<ThumbnailDto> Thumbnails, string? Error);

public sealed record ThumbnailDto(long Frame, double Time, string Url);

/// <summary>The frames tracked, 1-based and inclusive, and the same range in seconds (frame 1 at 0 s).</summary>
public sealed record RangeDto(long From, long? To, double FromTime, double? ToTime);

/// <summary>One tracked person. <paramref name="CropQuality"/> is parallel to <paramref name="Crops"/>: a flawed crop is left
/// out of enrolment and probes, with its reason.</summary>
public sealed record VideoTrackDto(int Track, long FirstFrame, long LastFrame, double StartTime, double EndTime, int Detections,
    IReadOnlyList<string> Crops, int UsableCrops, IReadOnlyList<CropQualityDto> CropQuality);

public sealed record CropQualityDto(long Frame, bool Usable, IReadOnlyList<string> Flaws, string? Reason);
