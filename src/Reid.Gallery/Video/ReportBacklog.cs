using System.Data.Common;
using System.Diagnostics;
using Reid.Video.Streams;

namespace Reid.Gallery.Video;

/// <summary>
/// One camera's track reports on their way to the associator, held back while the store cannot be reached. A report
/// that fails because the database is unreachable (a <see cref="DbException"/>, an I/O failure or a time-out anywhere
/// among its causes) waits, in order, and is stored once the store answers again: retried when the next report comes
/// (at most every <see cref="RetryEvery"/>, so a dead database does not stall the camera on every report) and when the
/// camera stops. A report refused for any other reason is dropped with its reason. At most <see cref="Capacity"/> reports
/// wait; beyond that the oldest are dropped and counted. So a database restart costs no sighting, and no failure to
/// store stops the camera. While reports wait, a timer offers them again every <see cref="RetryEvery"/> even when the
/// camera has nothing new to report (nobody in view). Safe from several threads; reports keep their order.
/// </summary>
public sealed class ReportBacklog(Func<LiveTrack, AssociationEvent?> handle, Action<AssociationEvent> onEvent) : IDisposable
{
    private readonly Queue<LiveTrack> _queue = new();
    private readonly Lock _gate = new();
    private Timer? _retry;
    private long _lastFailure;
    private volatile string? _error;
    private volatile int _waiting;
    private string? _cause;

    public int Capacity { get; init; } = 512;
    public TimeSpan RetryEvery { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Reports waiting for the store.</summary>
    public int Waiting => _waiting;
    /// <summary>Reports given up: over <see cref="Capacity"/>, refused for good, or still waiting when the camera stopped.</summary>
    public long Dropped { get; private set; }
    /// <summary>Why reports wait or were lost; null while everything is stored.</summary>
    public string? Error => _error;

    /// <summary>Stores <paramref name="report"/>, after any that wait, unless the store failed less than <see cref="RetryEvery"/> ago.</summary>
    public void Add(LiveTrack report)
    {
        lock (_gate) AddLocked(report);
    }

    private void AddLocked(LiveTrack report)
    {
        _queue.Enqueue(report);
        while (_queue.Count > Capacity)
        {
            _queue.Dequeue();
            Dropped++;
        }
        _waiting = _queue.Count;
        if (RetryDue) Flush();
        else Describe();
    }

    private void RetryFromTimer()
    {
        // A flush already under way may be waiting on a dead database for seconds: ticks that would queue up behind it on
        // the lock would each hold a thread-pool thread, and starve everything else that runs on the pool.
        if (!_gate.TryEnter()) return;
        try { if (_queue.Count > 0 && RetryDue) Flush(); }
        finally { _gate.Exit(); }
    }

    private bool RetryDue => _lastFailure == 0 || Stopwatch.GetElapsedTime(_lastFailure) >= RetryEvery;

    /// <summary>When the camera stops: keeps trying until everything is stored or <paramref name="grace"/> has passed;
    /// what still waits then is lost and counted.</summary>
    public void Drain(TimeSpan grace, CancellationToken abandon = default)
    {
        var clock = Stopwatch.StartNew();
        while (!FlushLocked() && !abandon.IsCancellationRequested)
        {
            var left = grace - clock.Elapsed;
            if (left <= TimeSpan.Zero) break;
            abandon.WaitHandle.WaitOne(RetryEvery < left ? RetryEvery : left);
        }
        lock (_gate)
        {
            _retry?.Dispose();
            _retry = null;
            if (_queue.Count == 0) return;
            Dropped += _queue.Count;
            _queue.Clear();
            _waiting = 0;
            Describe();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _retry?.Dispose();
            _retry = null;
        }
    }

    private bool FlushLocked()
    {
        lock (_gate) return Flush();
    }

    /// <summary>Stores what waits, oldest first; false if the store is still unreachable. Called under the lock.</summary>
    private bool Flush()
    {
        while (_queue.TryPeek(out var next))
        {
            try
            {
                if (handle(next) is { } e) onEvent(e);
                _queue.Dequeue();
                _lastFailure = 0;
            }
            catch (Exception ex) when (Unreachable(ex))
            {
                _lastFailure = Stopwatch.GetTimestamp();
                _cause = ex.Message;
                // Offered again on a timer too: the camera may have nothing new to report for a long while.
                var every = RetryEvery > TimeSpan.FromMilliseconds(50) ? RetryEvery : TimeSpan.FromMilliseconds(50);
                _retry ??= new Timer(_ => RetryFromTimer(), null, every, every);
                break;
            }
            catch (Exception ex) when (ex is Core.ReidException or InvalidOperationException or DbException)
            {
                // Refused for good (e.g. a model mismatch): retrying cannot help.
                _queue.Dequeue();
                Dropped++;
                _cause = $"track {next.Track.Id} not stored: {ex.Message}";
            }
        }
        _waiting = _queue.Count;
        Describe();
        return _queue.Count == 0;
    }

    private void Describe() => _error = (_queue.Count, Dropped) switch
    {
        (0, 0) => null,
        (0, var lost) => $"{lost} track report(s) could not be stored: {_cause}",
        (var n, 0) => $"{n} track report(s) waiting for the store: {_cause}",
        var (n, lost) => $"{n} track report(s) waiting for the store, {lost} dropped: {_cause}",
    };

    /// <summary>The database (or the network to it) did not answer, or is shutting down: worth trying again later. A database
    /// that answered with an error about the request itself (a constraint, a bad value) is not: that report is dropped.</summary>
    internal static bool Unreachable(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is DbException db)
                return db.IsTransient || db.SqlState is { } state && (state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("57P", StringComparison.Ordinal));
            if (x is IOException or TimeoutException or System.Net.Sockets.SocketException) return true;
        }
        return false;
    }
}
