using Reid.Core;
using Reid.Video;
using Reid.Video.CrossCamera;

namespace Reid.Gallery.Video;

/// <summary>
/// A video person track as gallery crops, each with its provenance (camera, video, frame, time in the video, box):
/// the one conversion enrol, verify, identify and the multi-camera run all store or probe with.
/// </summary>
public static class VideoCrops
{
    /// <summary>The crops of a track from one video; the camera is the track's own, the wall-clock time unknown.</summary>
    public static IReadOnlyList<CropInput> From(PersonTrack track, string videoName) =>
        From(track, videoName, track.Camera, capturedAt: null);

    /// <summary>The crops of a track from a camera's video whose frame 1 is at a known wall-clock time.</summary>
    public static IReadOnlyList<CropInput> From(PersonTrack track, CameraVideo video) =>
        From(track, Path.GetFileName(Path.TrimEndingDirectorySeparator(video.Path)), video.Camera, video.At);

    private static IReadOnlyList<CropInput> From(PersonTrack track, string videoName, string? camera, Func<double, DateTimeOffset>? capturedAt) =>
        track.Crops.Select(c => new CropInput(c.Image, new SightingSource(
            Camera: camera, CapturedAt: capturedAt?.Invoke(c.Observation.Timestamp), Source: videoName, Frame: c.Observation.Frame,
            SourceTime: c.Observation.Timestamp,
            Box: c.Observation.Box))).ToArray();

    /// <summary>The track to enrol when a video shows several people: the requested one, else the one seen longest.</summary>
    public static PersonTrack Choose(IReadOnlyList<PersonTrack> tracks, int? id, string videoName)
    {
        if (tracks.Count == 0) throw new ReidException($"{videoName}: no person was tracked in the chosen frames");
        if (id is { } t) return tracks.FirstOrDefault(x => x.Id == t) ?? throw new ReidException($"{videoName}: no track {t} (tracks: {string.Join(", ", tracks.Select(x => x.Id))})");
        return tracks.OrderByDescending(x => x.Observations.Count).First();
    }
}
