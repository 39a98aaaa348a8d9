namespace Reid.Gallery.Video;

/// <summary>
/// A track an <see cref="OnlineAssociator"/> has decided, as every associator of the gallery sees it: which run of
/// which worker reported it (tracker ids restart when a camera is restarted, possibly on another worker), camera,
/// tracker id, global identity, span in Unix seconds and latest embedding.
/// </summary>
public sealed record LedgerTrack(string Run, string Camera, int Track, long IdentityId, string Name, double Start, double End, float[] Embedding);

/// <summary>
/// What associators deciding for one gallery share: the recent tracks they decided, and a lock under which one
/// decision (read the recent tracks and the gallery, choose, store) happens at a time. One process: <see cref="LocalTrackLedger"/>.
/// Several `reid watch` workers on one PostgreSQL gallery: <see cref="PostgresTrackLedger"/>, so two workers that see
/// the same new person on two cameras make one identity, not two.
/// </summary>
public interface ITrackLedger
{
    /// <summary>True when other processes decide on the same gallery (the associator then re-reads what it cached).</summary>
    bool Shared { get; }

    /// <summary>Holds the decision lock until disposed: no other associator of the gallery decides meanwhile.</summary>
    IDisposable Decide();

    /// <summary>Tracks that ended at or after <paramref name="since"/> (Unix seconds), every camera.</summary>
    IReadOnlyList<LedgerTrack> Recent(double since);

    /// <summary>Adds a track, or updates it (same run, camera and track id) with its newer span and embedding.</summary>
    void Put(LedgerTrack track);
}

/// <summary>The ledger of one process: a list in memory; tracks that ended an hour before the newest are forgotten.</summary>
public sealed class LocalTrackLedger : ITrackLedger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string, string, int), LedgerTrack> _tracks = [];
    private double _latestEnd = double.NegativeInfinity;

    public bool Shared => false;

    public IDisposable Decide()
    {
        _gate.Enter();
        return new Releaser(_gate);
    }

    public IReadOnlyList<LedgerTrack> Recent(double since)
    {
        lock (_gate) return _tracks.Values.Where(t => t.End >= since).ToList();
    }

    public void Put(LedgerTrack track)
    {
        lock (_gate)
        {
            _tracks[(track.Run, track.Camera, track.Track)] = track;
            if (track.End <= _latestEnd) return;
            _latestEnd = track.End;
            if (_tracks.Count % 256 == 0)
                foreach (var old in _tracks.Where(kv => kv.Value.End < _latestEnd - ForgetAfterSeconds).Select(kv => kv.Key).ToList())
                    _tracks.Remove(old);
        }
    }

    /// <summary>Longer than any recent-track window worth using; bounds the memory of a watcher that runs for months.</summary>
    internal const double ForgetAfterSeconds = 3600;

    private sealed class Releaser(Lock gate) : IDisposable
    {
        private int _done;
        public void Dispose() { if (Interlocked.Exchange(ref _done, 1) == 0) gate.Exit(); }
    }
}
