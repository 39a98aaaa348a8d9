using System.Diagnostics;
using Reid.Core;
using Reid.Video;
using Reid.Video.Streams;

namespace Reid.Gallery.Video;

/// <summary>What a worker did with a camera's lease: claimed it, lost it (another worker holds it now, or the database
/// could not confirm the lease in time) or released it on a clean stop.</summary>
public sealed record LeaseEvent(string Action, string Camera, string Worker, string? Reason = null)
{
    public const string Claimed = "claimed", Lost = "lost", Released = "released";
}

public sealed record LeasedWatchOptions
{
    /// <summary>A lease not renewed for this long passes to another worker: the failover time is about this plus one poll.</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>At most this many cameras on this worker.</summary>
    public int MaxCameras { get; init; } = int.MaxValue;
    /// <summary>How long a camera stopped by a lost lease keeps offering its unstored reports to the database.</summary>
    public TimeSpan LostGrace { get; init; } = TimeSpan.FromSeconds(60);

    public void Validate()
    {
        if (Ttl < TimeSpan.FromSeconds(3)) throw new ReidException($"a camera lease must last at least 3 s, not {Ttl.TotalSeconds} s");
        if (MaxCameras < 1) throw new ReidException($"a worker takes at least one camera, not {MaxCameras}");
    }
}

/// <summary>
/// `reid watch` as one of several workers on a PostgreSQL gallery: the cameras are registered in the shared lease
/// table, and this worker runs those it can claim (<see cref="CameraLeases"/>), each through <see cref="CameraWatch"/>,
/// all into one <see cref="OnlineAssociator"/> whose ledger the workers share. Every third of the lease time it renews
/// its leases, stops at once a camera the renewal no longer returns (another worker has it: a camera is never
/// processed twice at once), stops every camera when the database has not confirmed its leases for most of a lease
/// time (by a timer, however long a call to a dead database hangs) and restarts those still its own once it answers
/// again, and claims free cameras, among them those of a worker that died. Cancelling stops the cameras (open tracks
/// are stored) and releases the leases, so others take over without waiting for expiry.
/// </summary>
public static class LeasedCameraWatch
{
    public static void Run(CameraLeases leases, IReadOnlyList<CameraSource> cameras, Func<CameraSource, VideoPersonExtractor> extractorFor,
        OnlineAssociator associator, CameraWatchOptions watch, LeasedWatchOptions options, Action<AssociationEvent> onEvent,
        Action<IReadOnlyList<CameraStatus>> onStatus, Action<LeaseEvent> onLease, CancellationToken ct)
    {
        options.Validate();
        CameraList.Check(cameras);
        var known = cameras.ToDictionary(c => c.Id, StringComparer.Ordinal);
        leases.Register(cameras.Select(c => new LeasedCamera(c.Id, c.Url)));

        var running = new Dictionary<string, (Thread Thread, CancellationTokenSource Stop)>(StringComparer.Ordinal);
        var poll = options.Ttl / 3;
        // A lease lost to a database outage stops the camera while the database is away: its unstored reports get longer
        // to wait for it than on a clean stop (they are stored in the background, see Stop).
        // A worker told to stop still gives them only the usual grace.
        using var shuttingDown = new CancellationTokenSource();
        using var onStop = ct.Register(() => shuttingDown.CancelAfter(watch.StopGrace));
        var leasedWatch = watch with
        {
            StopGrace = watch.StopGrace > options.LostGrace ? watch.StopGrace : options.LostGrace,
            GiveUpStoring = shuttingDown.Token,
        };
        // Cancelled when the leases may be about to pass to another worker: 80 % of a lease time after the start of the last
        // renewal the database confirmed. A timer, not this loop, fires it, so a renewal that hangs on a dead database
        // cannot keep the cameras running past their leases.
        var mayLapse = new CancellationTokenSource();
        string? lastError = null;

        // A camera whose lease is lost stops reading frames at once, but its thread may still be storing the reports it made
        // (they wait for a database that is away, up to the stop grace): it finishes that in the background, so the loop
        // goes on renewing and can claim the camera back meanwhile. Such threads are joined before Run returns.
        var finishing = new List<(Thread Thread, CancellationTokenSource Stop)>();

        void Stop(string camera, string action, string? reason)
        {
            if (!running.Remove(camera, out var r)) return;
            r.Stop.Cancel();
            if (action == LeaseEvent.Lost) finishing.Add(r);
            else
            {
                r.Thread.Join();   // a clean stop: its open tracks are stored before anyone is told it stopped
                r.Stop.Dispose();
            }
            onLease(new LeaseEvent(action, camera, leases.Worker, reason));
        }

        void Start(LeasedCamera claimed)
        {
            // A camera registered by another worker's list runs from its URL with default settings.
            var source = known.TryGetValue(claimed.Camera, out var mine) && mine.Url == claimed.Url ? mine : new CameraSource(claimed.Camera, claimed.Url);
            var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, mayLapse.Token);
            var thread = new Thread(() => CameraWatch.Run([source], extractorFor, associator, leasedWatch, onEvent, onStatus, stop.Token))
            { IsBackground = true, Name = $"leased {source.Id}" };
            running[source.Id] = (thread, stop);
            onLease(new LeaseEvent(LeaseEvent.Claimed, source.Id, leases.Worker));
            thread.Start();
        }

        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (mayLapse.IsCancellationRequested)
                {
                    // The timer stopped the cameras: say so, and start afresh once the database answers again.
                    foreach (var cam in running.Keys.ToList())
                        Stop(cam, LeaseEvent.Lost, $"the leases could not be renewed in time: {lastError ?? "no answer from the database"}");
                    mayLapse.Dispose();
                    mayLapse = new CancellationTokenSource();
                }
                try
                {
                    var asked = Stopwatch.StartNew();
                    var held = leases.Renew();
                    var left = options.Ttl * 0.8 - asked.Elapsed;
                    if (left > TimeSpan.Zero) mayLapse.CancelAfter(left);
                    lastError = null;
                    var heldIds = held.Select(h => h.Camera).ToHashSet(StringComparer.Ordinal);
                    foreach (var lost in running.Keys.Where(k => !heldIds.Contains(k)).ToList())
                        Stop(lost, LeaseEvent.Lost, "another worker holds it now (this worker's lease had expired)");
                    if (!mayLapse.IsCancellationRequested)
                    {
                        // Cameras still ours but not running (stopped while the database was away, and nobody took them).
                        foreach (var h in held.Where(h => !running.ContainsKey(h.Camera))) Start(h);
                        foreach (var c in leases.Claim(options.MaxCameras - running.Count)) Start(c);
                    }
                }
                catch (ReidException e) { lastError = e.Message; }
                WaitHandle.WaitAny([ct.WaitHandle, mayLapse.Token.WaitHandle], poll);
            }
        }
        finally
        {
            var mine = running.Keys.ToList();
            foreach (var cam in mine)
            {
                var r = running[cam];
                r.Stop.Cancel();
            }
            foreach (var cam in mine) Stop(cam, LeaseEvent.Released, null);
            try { leases.Release(mine); }
            catch (ReidException) { /* the leases expire on their own */ }
            foreach (var (thread, stop) in finishing)
            {
                thread.Join();
                stop.Dispose();
            }
            mayLapse.Dispose();
        }
    }
}
