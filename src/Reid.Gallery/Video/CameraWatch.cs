using System.Diagnostics;
using Reid.Video;
using Reid.Video.Streams;

namespace Reid.Gallery.Video;

/// <summary>One camera at a status tick: its stream's state, and the frames per second the pipeline processed since the last tick.
/// <see cref="LagP50"/> / <see cref="LagP95"/>: median and 95th percentile, over the frames processed since the last tick, of
/// the seconds from a frame's wall-clock time to the end of its processing (null when no frame was processed).</summary>
public sealed record CameraStatus(StreamState Stream, double ProcessedFps, long FramesProcessed, string? PipelineError,
    double? LagP50 = null, double? LagP95 = null);

public sealed record CameraWatchOptions
{
    public StreamOptions Stream { get; init; } = new();
    public LivePipelineOptions Pipeline { get; init; } = new();
    /// <summary>How often the cameras' status is reported.</summary>
    public TimeSpan StatusEvery { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Track reports one camera keeps while the store is unreachable (<see cref="ReportBacklog"/>); older ones are dropped.</summary>
    public int Backlog { get; init; } = 512;
    /// <summary>How often waiting reports are offered to an unreachable store again.</summary>
    public TimeSpan StoreRetry { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>On stop, how long a camera keeps offering its waiting reports to an unreachable store before they are lost.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Cancelled: stop offering waiting reports at once, whatever is left of <see cref="StopGrace"/>.</summary>
    public CancellationToken GiveUpStoring { get; init; }
    /// <summary>Optional: every processed frame of a camera (its id) with its tracked boxes, on that camera's thread (live previews).</summary>
    public Action<string, Reid.Video.Decoding.VideoFrame, IReadOnlyList<Reid.Video.Tracking.TrackedBox>>? OnFrame { get; init; }
}

/// <summary>
/// `reid watch`'s run: every camera's stream through its own <see cref="LiveCameraPipeline"/> on its own thread (the
/// detector is not thread-safe, the ReID model is shared), every track report through one <see cref="OnlineAssociator"/>,
/// decisions and periodic status handed to the caller. A camera that cannot be reached keeps being retried by its
/// stream and shows it in its status; the other cameras run on. Reports the store cannot take while it is unreachable
/// wait in the camera's <see cref="ReportBacklog"/> and are stored when it answers; the status says how many wait.
/// Cancelling stops the streams, and every open track is finished and stored before <see cref="Run"/> returns.
/// </summary>
public static class CameraWatch
{
    /// <param name="extractorFor">A detect/track/embed extractor for one camera (called once per camera).</param>
    public static void Run(IReadOnlyList<CameraSource> cameras, Func<CameraSource, VideoPersonExtractor> extractorFor,
        OnlineAssociator associator, CameraWatchOptions options, Action<AssociationEvent> onEvent,
        Action<IReadOnlyList<CameraStatus>> onStatus, CancellationToken ct)
    {
        CameraList.Check(cameras);
        var extractors = new List<VideoPersonExtractor>();
        var streams = new List<CameraStream>();
        var pipelines = new List<LiveCameraPipeline>();
        var failures = new string?[cameras.Count];
        var backlogs = new ReportBacklog[cameras.Count];
        try
        {
            foreach (var c in cameras)
            {
                extractors.Add(extractorFor(c));
                streams.Add(new CameraStream(c, options.Stream));
                pipelines.Add(new LiveCameraPipeline(streams[^1], extractors[^1], options.Pipeline));
                if (options.OnFrame is { } onFrame) { var id = c.Id; pipelines[^1].OnFrame = (f, boxes) => onFrame(id, f, boxes); }
            }
            var threads = new List<Thread>();
            for (int i = 0; i < cameras.Count; i++)
            {
                int k = i;
                // The store may be unreachable for a while (a database restart): reports wait for it, the camera goes on.
                backlogs[k] = new ReportBacklog(associator.Handle, onEvent) { Capacity = options.Backlog, RetryEvery = options.StoreRetry };
                var t = new Thread(() =>
                {
                    try
                    {
                        pipelines[k].Run(backlogs[k].Add, ct);
                    }
                    catch (Exception ex)
                    {
                        // One camera's failure (e.g. a frame the detector refuses) must not take the others down: it stops, and says why.
                        failures[k] = $"pipeline stopped: {ex.Message}";
                    }
                    finally
                    {
                        // The camera is let go before its last reports are stored, which may wait for the database a while.
                        streams[k].Dispose();
                        backlogs[k].Drain(options.StopGrace, options.GiveUpStoring);
                    }
                }) { IsBackground = true, Name = $"watch {cameras[k].Id}" };
                threads.Add(t);
            }
            streams.ForEach(s => s.Start());
            threads.ForEach(t => t.Start());

            var last = new long[cameras.Count];
            var clock = Stopwatch.StartNew();
            var lastTick = TimeSpan.Zero;
            while (threads.Any(t => t.IsAlive))
            {
                var waited = ct.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
                if (clock.Elapsed - lastTick < options.StatusEvery && !waited) continue;
                var seconds = Math.Max(1e-3, (clock.Elapsed - lastTick).TotalSeconds);
                lastTick = clock.Elapsed;
                var status = new List<CameraStatus>();
                for (int i = 0; i < cameras.Count; i++)
                {
                    var processed = pipelines[i].FramesProcessed;
                    var lags = pipelines[i].TakeLags().Order().ToList();
                    double? Quantile(double q) => lags.Count == 0 ? null : lags[Math.Min(lags.Count - 1, (int)(q * lags.Count))];
                    status.Add(new CameraStatus(streams[i].State, (processed - last[i]) / seconds, processed, failures[i] ?? backlogs[i].Error,
                        Quantile(0.5), Quantile(0.95)));
                    last[i] = processed;
                }
                onStatus(status);
                if (waited) break;
            }
            // Cancelled: each pipeline finishes its open tracks and the associator stores them before we return.
            foreach (var t in threads) t.Join();
            // Reports a camera could not store before it stopped (the database away past the grace time) are said, not lost silently.
            var unstored = Enumerable.Range(0, cameras.Count).Where(i => backlogs[i].Dropped > 0).ToList();
            if (unstored.Count > 0)
                onStatus(unstored.Select(i => new CameraStatus(streams[i].State, 0, pipelines[i].FramesProcessed, failures[i] ?? backlogs[i].Error)).ToList());
        }
        finally
        {
            foreach (var s in streams) s.Dispose();
            foreach (var e in extractors) e.Dispose();
        }
    }
}
