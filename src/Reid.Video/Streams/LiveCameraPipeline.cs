using Reid.Core;
using Reid.Video.Decoding;
using Reid.Video.Tracking;

namespace Reid.Video.Streams;

/// <summary>How a <see cref="LiveCameraPipeline"/> reports tracks.</summary>
public sealed record LivePipelineOptions
{
    /// <summary>A track still followed after this many seconds is reported (not final) again every this many seconds.</summary>
    public double InterimSeconds { get; init; } = 10;
    /// <summary>The tracker counts ages in frames; without a frame-rate cap on the camera its rate is taken to be this.</summary>
    public double AssumedFps { get; init; } = 25;

    public void Validate()
    {
        if (!(InterimSeconds > 0)) throw new ReidException($"the interim report interval must be above 0 s, not {InterimSeconds}");
        if (!(AssumedFps > 0)) throw new ReidException($"the assumed frame rate must be above 0, not {AssumedFps}");
    }
}

/// <summary>
/// One camera's frames through the same detect → track → embed step as a file (<see cref="OnlineExtraction"/>),
/// reported as <see cref="LiveTrack"/>s: a final one when the tracker lets a person go, an interim one every
/// <see cref="LivePipelineOptions.InterimSeconds"/> of frame time for people followed longer, and every open
/// track as final when the stream ends or the pipeline is stopped. Frame times are the stream's own.
/// </summary>
public sealed class LiveCameraPipeline
{
    private readonly CameraStream _stream;
    private readonly OnlineExtraction _online;
    private readonly LivePipelineOptions _options;
    private readonly DateTimeOffset _origin;

    public LiveCameraPipeline(CameraStream stream, VideoPersonExtractor extractor, LivePipelineOptions? options = null)
    {
        _options = options ?? new LivePipelineOptions();
        _options.Validate();
        _stream = stream;
        _online = extractor.StartOnline(stream.Source.MaxFps ?? _options.AssumedFps, stream.Source.Id);
        // A file's frame times start at 0 when playback starts; a network source's are already the wall clock.
        _origin = stream.Source.IsFile ? DateTimeOffset.UtcNow : DateTimeOffset.UnixEpoch;
    }

    public string Camera => _stream.Source.Id;

    /// <summary>Optional: handed every processed frame and its tracked boxes on the pipeline's thread (a live preview keeps
    /// a reference; it must not block or change the frame).</summary>
    public Action<VideoFrame, IReadOnlyList<TrackedBox>>? OnFrame { get; set; }
    public long FramesProcessed => Interlocked.Read(ref _processed);
    private long _processed;
    private readonly Lock _lagGate = new();
    private List<double> _lags = [];

    /// <summary>The lags (seconds from a frame's wall-clock time to the end of its processing) since the last call. For a
    /// live source this is how far behind the camera the pipeline runs; a lag that grows means it cannot keep up.</summary>
    public IReadOnlyList<double> TakeLags()
    {
        lock (_lagGate) { var l = _lags; _lags = []; return l; }
    }

    /// <summary>
    /// Processes frames until the stream ends or <paramref name="ct"/> is cancelled, handing each report to
    /// <paramref name="report"/> on this thread; open tracks are reported final before it returns.
    /// </summary>
    public void Run(Action<LiveTrack> report, CancellationToken ct)
    {
        double? lastTime = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (!_stream.Frames.TryRead(out var frame))
                {
                    bool more;
                    try { more = _stream.Frames.WaitToReadAsync(ct).AsTask().GetAwaiter().GetResult(); }
                    catch (OperationCanceledException) { break; }
                    if (!more) break;
                    continue;
                }
                _online.Process(frame);
                Interlocked.Increment(ref _processed);
                lastTime = frame.Timestamp;
                var lag = (DateTimeOffset.UtcNow - _origin.AddSeconds(frame.Timestamp)).TotalSeconds;
                lock (_lagGate) if (_lags.Count < 100_000) _lags.Add(lag);
                OnFrame?.Invoke(frame, _online.LastTracked);
                foreach (var t in _online.TakeEnded()) report(new LiveTrack(Camera, t, true, _origin, frame.Timestamp));
                foreach (var t in _online.TakeInterim(frame.Timestamp, _options.InterimSeconds)) report(new LiveTrack(Camera, t, false, _origin, frame.Timestamp));
            }
        }
        finally
        {
            foreach (var t in _online.FinishAll()) report(new LiveTrack(Camera, _online.Judged(t), true, _origin, lastTime));
        }
    }
}
