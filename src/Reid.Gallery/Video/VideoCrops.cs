using Reid.Core;
using Reid.Video;
using Reid.Video.CrossCamera;

namespace Reid.Gallery.Video;

/// <summary>
/// A video person track as gallery crops, each with its provenance (camera, video, frame, time in the video, box):
/// the one conversion enrol, verify, identify and the multi-camera run all store or probe with. Only the crops
/// Reid.Video found usable are taken (<see cref="TrackCrop.Usable"/>): a crop cut at the frame border or half
/// hidden by another person, once enrolled, matches other people's cut or hidden crops rather than this person.
/// </summary>
public static class VideoCrops
{
    /// <summary>The usable crops of a track from one video; the camera is the track's own, the wall-clock time unknown.
    /// A <see cref="ReidException"/> saying why when the track has none.</summary>
    public static IReadOnlyList<CropInput> From(PersonTrack track, string videoName) =>
        From(track, videoName, track.Camera, capturedAt: null);

    /// <summary>The usable crops of a track from a camera's video whose frame 1 is at a known wall-clock time.</summary>
    public static IReadOnlyList<CropInput> From(PersonTrack track, CameraVideo video) =>
        From(track, Path.GetFileName(Path.TrimEndingDirectorySeparator(video.Path)), video.Camera, video.At);

    private static IReadOnlyList<CropInput> From(PersonTrack track, string videoName, string? camera, Func<double, DateTimeOffset>? capturedAt)
    {
        if (!HasUsableCrop(track))
            throw new ReidException($"{videoName}: track {track.Id} has no usable crop ({FlawSummary(track)}): choose another person or another stretch of the video");
        return Of(track.Crops.Where(c => c.Usable), videoName, camera, capturedAt);
    }

    /// <summary>Chosen crops as gallery crops with their provenance: <paramref name="source"/> names where they came from,
    /// <paramref name="capturedAt"/> turns a crop's time in the source into wall-clock time (null: unknown).</summary>
    public static IReadOnlyList<CropInput> Of(IEnumerable<TrackCrop> crops, string source, string? camera, Func<double, DateTimeOffset>? capturedAt) =>
        crops.Select(c => new CropInput(c.Image, new SightingSource(
            Camera: camera, CapturedAt: capturedAt?.Invoke(c.Observation.Timestamp), Source: source, Frame: c.Observation.Frame,
            SourceTime: c.Observation.Timestamp,
            Box: c.Observation.Box))).ToArray();

    public static bool HasUsableCrop(PersonTrack track) => track.Crops.Any(c => c.Usable);

    /// <summary>How many crops were left out and why, e.g. "5 cut at frame border, 1 blurred" (a crop may have several flaws).</summary>
    public static string FlawSummary(PersonTrack track) =>
        string.Join(", ", track.Crops.Where(c => !c.Usable).SelectMany(c => c.Quality!.Flaws).GroupBy(f => f)
            .Select(g => $"{g.Count()} {Reid.Video.Quality.CropQuality.Describe(g.Key)}"));

    /// <summary>The track to enrol when a video shows several people: the requested one, else the one seen longest.</summary>
    public static PersonTrack Choose(IReadOnlyList<PersonTrack> tracks, int? id, string videoName)
    {
        if (tracks.Count == 0) throw new ReidException($"{videoName}: no person was tracked in the chosen frames");
        if (id is { } t) return tracks.FirstOrDefault(x => x.Id == t) ?? throw new ReidException($"{videoName}: no track {t} (tracks: {string.Join(", ", tracks.Select(x => x.Id))})");
        return tracks.OrderByDescending(x => x.Observations.Count).First();
    }
}
