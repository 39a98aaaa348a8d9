using Reid.Imaging;
using Reid.Video.Quality;

namespace Reid.Video;

/// <summary>One detection of a tracked person: 1-based frame number, time (s), box, detector score and
/// the box's index among that frame's detections (the BB of <c>NumFrame_BB.jpg</c>).</summary>
public sealed record TrackObservation(long Frame, double Timestamp, BoundingBox Box, float Score, int BoxIndex);

/// <summary>A crop of a tracked person with the observation it was cut from and, from the extractor, how good a sample it is
/// (null for crops made elsewhere, which are taken as they are).</summary>
public sealed record TrackCrop(TrackObservation Observation, RgbImage Image, CropQuality? Quality = null)
{
    /// <summary>Fit to enrol or to probe with: no flaw found, or never scored.</summary>
    public bool Usable => Quality?.Usable ?? true;
}

/// <summary>
/// A person followed through one video: every observation, a sample of crops spread over its life, and a
/// representative embedding (the mean of the embeddings computed for it, L2-normalised).
/// </summary>
public sealed record PersonTrack(
    int Id,
    string? Camera,
    IReadOnlyList<TrackObservation> Observations,
    IReadOnlyList<TrackCrop> Crops,
    float[] Embedding,
    int EmbeddingCount)
{
    public long FirstFrame => Observations[0].Frame;
    public long LastFrame => Observations[^1].Frame;
    public double StartTime => Observations[0].Timestamp;
    public double EndTime => Observations[^1].Timestamp;
}

/// <summary>Where the time went while extracting, in seconds, and how much work was done.</summary>
public sealed record ExtractionStats(
    long Frames, long Detections, long EmbeddedCrops,
    double DecodeSeconds, double DetectSeconds, double EmbedSeconds, double TrackSeconds, double WallSeconds,
    string? Warning)
{
    public double FramesPerSecond => WallSeconds > 0 ? Frames / WallSeconds : 0;
}

/// <summary>The result of one video: its tracks plus what happened while reading it.</summary>
public sealed record VideoTracks(Decoding.VideoInfo Video, string? Camera, IReadOnlyList<PersonTrack> Tracks, ExtractionStats Stats);
