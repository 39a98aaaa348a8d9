using Reid.Gallery.Video;
using Reid.Video;
using Reid.Video.Streams;

namespace Reid.Gallery.Live;

/// <summary>
/// <see cref="CameraWatch.Run"/> wired to the live outputs: every association event to the <see cref="WatchEventHub"/>
/// (and from there to SSE clients and webhooks) and to <see cref="LiveFrames"/> (names on the tiles), every status tick
/// to the hub, every processed frame to <see cref="LiveFrames"/>. `reid serve --watch` runs this.
/// </summary>
public static class LiveWatch
{
    public static void Run(IReadOnlyList<CameraSource> cameras, Func<CameraSource, VideoPersonExtractor> extractorFor,
        OnlineAssociator associator, CameraWatchOptions options, WatchEventHub hub, LiveFrames frames, CancellationToken ct)
    {
        hub.Expect(cameras.Select(c => c.Id));
        CameraWatch.Run(cameras, extractorFor, associator, options with { OnFrame = frames.Offer },
            e =>
            {
                frames.Learn(e.Camera, e.Track, e.Name);
                hub.Publish(e);
            },
            hub.Publish, ct);
    }
}
