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
    /// <param name="leases">On a PostgreSQL gallery shared with other workers: run only the cameras this worker can
    /// claim (<see cref="LeasedCameraWatch"/>); the associator should then use the store's shared track ledger.</param>
    public static void Run(IReadOnlyList<CameraSource> cameras, Func<CameraSource, VideoPersonExtractor> extractorFor,
        OnlineAssociator associator, CameraWatchOptions options, WatchEventHub hub, LiveFrames frames, CancellationToken ct,
        CameraLeases? leases = null, Action<LeaseEvent>? onLease = null)
    {
        hub.Expect(cameras.Select(c => c.Id));
        void OnEvent(AssociationEvent e)
        {
            frames.Learn(e.Camera, e.Track, e.Name);
            hub.Publish(e);
        }
        var watch = options with { OnFrame = frames.Offer };
        if (leases is null) CameraWatch.Run(cameras, extractorFor, associator, watch, OnEvent, hub.Publish, ct);
        else LeasedCameraWatch.Run(leases, cameras, extractorFor, associator, watch, new LeasedWatchOptions { Ttl = leases.Ttl }, OnEvent, hub.Publish,
            onLease ?? (_ => { }), ct);
    }
}
