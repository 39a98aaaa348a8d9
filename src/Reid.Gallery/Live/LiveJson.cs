using System.Text.Json;
using Reid.Core;
using Reid.Gallery.Video;
using Reid.Video.Streams;

namespace Reid.Gallery.Live;

/// <summary>
/// An <see cref="AssociationEvent"/> as JSON — the one shape `reid watch --json`, Server-Sent Events (`GET /api/events`)
/// and webhooks write (snake_case through <see cref="ReidJson"/>): <c>event</c> is the kind (<see cref="AssociationKinds"/>).
/// </summary>
/// <c>frame_at</c> is the wall-clock time of the frame whose processing produced the event, <c>latency_ms</c> the time from
/// it to when this JSON was made (for `reid watch --json`: when the event was written).
public sealed record AssociationEventDto(string Event, string Camera, int Track, long Identity, string Name, double? Score,
    DateTimeOffset Start, DateTimeOffset End, string? LinkedCamera, int? LinkedTrack, int SightingsStored, bool Final,
    DateTimeOffset? FrameAt, double? LatencyMs)
{
    public static AssociationEventDto From(AssociationEvent e) => new(e.Kind, e.Camera, e.Track, e.IdentityId, e.Name, e.Score,
        e.Start, e.End, e.LinkedCamera, e.LinkedTrack, e.SightingsStored, e.Final, e.FrameAt,
        e.FrameAt is { } f ? Math.Round((DateTimeOffset.UtcNow - f).TotalMilliseconds, 1) : null);
}

/// <summary>A camera's status at a tick as JSON (<c>event</c> is always "status"): stream state, processed frames per second,
/// counters and the last stream / pipeline error.</summary>
public sealed record CameraStatusDto(string Event, string Camera, string Status, double Fps, long FramesProcessed, long FramesDecoded,
    long FramesDropped, int Reconnects, int? Width, int? Height, string? LastError, string? PipelineError, double? LagP50Ms = null, double? LagP95Ms = null)
{
    public const string Kind = "status";

    public static CameraStatusDto From(CameraStatus s) => new(Kind, s.Stream.Camera, Core.Config.ConfigBinder.Name(s.Stream.Status),
        Math.Round(s.ProcessedFps, 2), s.FramesProcessed, s.Stream.FramesDecoded, s.Stream.FramesDropped, s.Stream.Reconnects,
        s.Stream.Width, s.Stream.Height, s.Stream.LastError, s.PipelineError,
        s.LagP50 is { } p50 ? Math.Round(p50 * 1000, 1) : null, s.LagP95 is { } p95 ? Math.Round(p95 * 1000, 1) : null);

    /// <summary>A camera the watcher has not reported on yet.</summary>
    public static CameraStatusDto Connecting(string camera) => new(Kind, camera, Core.Config.ConfigBinder.Name(StreamStatus.Connecting),
        0, 0, 0, 0, 0, null, null, null, null);
}

/// <summary>A webhook target's delivery counters as JSON (<c>event</c> is always "webhook"); <c>target</c> is the URL without
/// its query string and user info (they may carry tokens).</summary>
public sealed record WebhookStatusDto(string Event, string Target, long Delivered, long Failed, long Dropped, long Retries, int Queued,
    string? LastError)
{
    public const string Kind = "webhook";
}

/// <summary>A worker's camera lease claimed, lost or released (<c>event</c> is always "lease"; see <see cref="LeasedCameraWatch"/>).</summary>
public sealed record LeaseEventDto(string Event, string Action, string Camera, string Worker, string? Reason, DateTimeOffset At)
{
    public const string Kind = "lease";

    public static LeaseEventDto From(LeaseEvent l) => new(Kind, l.Action, l.Camera, l.Worker, l.Reason, DateTimeOffset.UtcNow);
}

/// <summary>The serialisation all three outputs share.</summary>
public static class LiveJson
{
    public static string Serialize(AssociationEvent e) => JsonSerializer.Serialize(AssociationEventDto.From(e), ReidJson.Compact);
    public static string Serialize(CameraStatus s) => JsonSerializer.Serialize(CameraStatusDto.From(s), ReidJson.Compact);
    public static string Serialize<T>(T dto) => JsonSerializer.Serialize(dto, ReidJson.Compact);
}
