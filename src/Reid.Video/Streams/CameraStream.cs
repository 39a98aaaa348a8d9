using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Reid.Core;
using Reid.Imaging;
using Reid.Video.Decoding;

namespace Reid.Video.Streams;

/// <summary>A camera: its id, a URL ffmpeg opens (rtsp, http(s), tcp, udp, or a file), an optional frame-rate cap,
/// and for a file whether it loops. Files play at their own rate, as a camera would deliver them.</summary>
public sealed record CameraSource(string Id, string Url, double? MaxFps = null, bool Loop = false)
{
    /// <summary>A path or file: URL rather than a network stream (its frame times are presentation times).</summary>
    public bool IsFile => !Url.Contains("://", StringComparison.Ordinal) || Url.StartsWith("file:", StringComparison.OrdinalIgnoreCase);
}

public enum StreamStatus { Connecting, Live, Stalled, Failed, Ended, Stopped }

/// <summary>What a stream is doing now, for status displays: counts run over the stream's whole life.</summary>
public sealed record StreamState(string Camera, StreamStatus Status, string? LastError, long FramesDecoded, long FramesDropped,
    int Reconnects, int? Width, int? Height, DateTimeOffset? LastFrameAt);

/// <summary>Reconnection and buffering of a <see cref="CameraStream"/>.</summary>
public sealed record StreamOptions
{
    /// <summary>No frame for this long: the stream is stalled and is reopened.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan BackoffMin { get; init; } = TimeSpan.FromSeconds(0.5);
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Consecutive failed attempts after which the status says Failed (it keeps retrying at the longest backoff).</summary>
    public int FailedAfter { get; init; } = 3;
    /// <summary>Frames waiting for the consumer; when it falls behind the oldest are dropped (and counted), never queued without bound.</summary>
    public int QueueFrames { get; init; } = 2;
}

/// <summary>
/// One live camera decoded by an ffmpeg child into rgb24 frames, kept open all day: a stream that fails or stalls
/// is reopened with exponential backoff, its status and last error are always readable, and a consumer that falls
/// behind loses the oldest frames (counted) instead of growing a queue. Frame numbers run on across reconnects;
/// frame times are the wall clock for network sources and the presentation time for files. A resolution change
/// mid-stream is scaled back to the first frame's size by ffmpeg (its default autoscale), so consumers see one size.
/// </summary>
public sealed class CameraStream : IDisposable
{
    private readonly StreamOptions _options;
    private readonly Channel<VideoFrame> _frames;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private Task? _loop;
    private Process? _process;
    private StreamStatus _status = StreamStatus.Connecting;
    private string? _lastError;
    private long _decoded, _dropped, _number;
    private int _reconnects, _width, _height;
    private DateTimeOffset? _lastFrameAt;

    public CameraStream(CameraSource source, StreamOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(source.Id)) throw new ReidException("a camera needs an id");
        if (string.IsNullOrWhiteSpace(source.Url)) throw new ReidException($"camera {source.Id}: no URL");
        if (source.MaxFps is <= 0) throw new ReidException($"camera {source.Id}: the frame-rate cap must be above 0, not {source.MaxFps}");
        Source = source;
        _options = options ?? new StreamOptions();
        _frames = Channel.CreateBounded<VideoFrame>(
            new BoundedChannelOptions(Math.Max(1, _options.QueueFrames)) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    public CameraSource Source { get; }

    /// <summary>Decoded frames, oldest first; completes when the stream ends (a file without loop) or is disposed.</summary>
    public ChannelReader<VideoFrame> Frames => _frames.Reader;

    public StreamState State
    {
        get
        {
            lock (_gate)
                return new StreamState(Source.Id, _status, _lastError, Interlocked.Read(ref _decoded), Interlocked.Read(ref _dropped),
                    _reconnects, _width > 0 ? _width : null, _height > 0 ? _height : null, _lastFrameAt);
        }
    }

    public CameraStream Start()
    {
        _loop ??= Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning);
        return this;
    }

    private void Set(StreamStatus status, string? error = null)
    {
        lock (_gate)
        {
            _status = status;
            if (error is not null) _lastError = error;
        }
    }

    private void Run()
    {
        var failures = 0;
        var attempt = 0;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (attempt++ > 0) lock (_gate) _reconnects++;
                Set(failures >= _options.FailedAfter ? StreamStatus.Failed : StreamStatus.Connecting);
                var (frames, ended, error) = Session();
                if (_stop.IsCancellationRequested) break;
                if (ended) { Set(StreamStatus.Ended, error); break; }
                failures = frames > 0 ? 1 : failures + 1;
                bool stalled;
                lock (_gate) stalled = _status == StreamStatus.Stalled;
                Set(failures >= _options.FailedAfter ? StreamStatus.Failed : stalled ? StreamStatus.Stalled : StreamStatus.Connecting,
                    error ?? "the stream closed");
                var backoff = TimeSpan.FromTicks(Math.Min(_options.BackoffMax.Ticks, _options.BackoffMin.Ticks << Math.Min(failures - 1, 20)));
                _stop.Token.WaitHandle.WaitOne(backoff);
            }
        }
        finally
        {
            if (_stop.IsCancellationRequested) Set(StreamStatus.Stopped);
            _frames.Writer.TryComplete();
        }
    }

    private static readonly TimeSpan ProbeAllowance = TimeSpan.FromSeconds(10);

    private static readonly Regex OutputSize = new(@"Video: rawvideo.*?, (\d{2,5})x(\d{2,5})", RegexOptions.Compiled);
    private static readonly Regex InputFps = new(@"Stream #0:\d+.*Video: .*?, ([\d.]+) (?:fps|tbr)", RegexOptions.Compiled);

    /// <summary>One ffmpeg run: frames until it ends, fails or stalls. Returns frames read, whether a file ended, and the error.</summary>
    private (long Frames, bool Ended, string? Error) Session()
    {
        var args = new List<string> { "-nostdin", "-hide_banner", "-v", "info" };
        if (Source.IsFile)
        {
            args.Add("-re");
            if (Source.Loop) args.AddRange(["-stream_loop", "-1"]);
        }
        else
        {
            // network reads time out instead of hanging on a dead peer (microseconds); the RTSP demuxer has no
            // -rw_timeout (ffmpeg refuses to open the stream with it) and names its socket timeout -timeout
            var timeout = ((long)_options.StallTimeout.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
            var rtsp = Source.Url.StartsWith("rtsp://", StringComparison.OrdinalIgnoreCase);
            args.AddRange([rtsp ? "-timeout" : "-rw_timeout", timeout]);
            // probe 2 s of stream instead of ffmpeg's 5 s before the first frame comes out
            args.AddRange(["-analyzeduration", "2000000"]);
            // RTP interleaved over the RTSP connection first (survives NAT and packet loss); plain UDP when the server
            // refuses TCP, as Debian's rtsp-server-perl does
            if (rtsp) args.AddRange(["-rtsp_transport", "tcp+udp"]);
        }
        args.AddRange(["-i", Source.Url, "-map", "0:v:0", "-an", "-sn"]);
        if (Source.MaxFps is { } cap) args.AddRange(["-vf", "fps=" + cap.ToString(CultureInfo.InvariantCulture)]);
        args.AddRange(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);

        Process p;
        try { p = FfmpegVideoSource.Start(Tools.FfmpegPath, args); }
        catch (ReidException e) { return (0, false, e.Message); }
        lock (_gate) _process = p;
        var size = new TaskCompletionSource<(int W, int H)>(TaskCreationOptions.RunContinuationsAsynchronously);
        double fps = 0;
        string? lastLine = null;
        var stderr = Task.Run(() =>
        {
            // The output size comes from ffmpeg's own description of its output; every other line may be an error.
            while (p.StandardError.ReadLine() is { } line)
            {
                if (OutputSize.Match(line) is { Success: true } m)
                    size.TrySetResult((int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)));
                else if (fps == 0 && InputFps.Match(line) is { Success: true } f)
                    double.TryParse(f.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out fps);
                else if (!line.StartsWith(' ') && line.Trim().Length > 0) lastLine = line.Trim();
            }
            size.TrySetResult((0, 0));
        });
        long frames = 0;
        var lastProgress = Stopwatch.StartNew();
        var stalled = false;
        using var watchdog = new Timer(_ =>
        {
            // before the first frame ffmpeg also connects and probes the stream (up to its analyze duration)
            var allowed = frames == 0 ? _options.StallTimeout + ProbeAllowance : _options.StallTimeout;
            if (lastProgress.Elapsed < allowed || p.HasExited) return;
            stalled = true;
            Set(StreamStatus.Stalled, $"no frame for {_options.StallTimeout.TotalSeconds:0.#} s");
            Kill(p);
        }, null, 1000, 1000);
        try
        {
            if (!size.Task.Wait(_options.StallTimeout + ProbeAllowance + TimeSpan.FromSeconds(1)) || size.Task.Result.W == 0)
            {
                Kill(p);
                stderr.Wait(TimeSpan.FromSeconds(5));
                return (0, false, stalled ? $"no frame for {_options.StallTimeout.TotalSeconds:0.#} s" : lastLine ?? $"{Source.Url}: no video stream");
            }
            var (w, h) = size.Task.Result;
            lock (_gate) { _width = w; _height = h; }
            var stdout = p.StandardOutput.BaseStream;
            var fileStart = _number;
            while (!_stop.IsCancellationRequested)
            {
                var buffer = new byte[checked(w * h * 3)];
                if (ReadFull(stdout, buffer) < buffer.Length) break;
                lastProgress.Restart();
                var now = DateTimeOffset.UtcNow;
                var number = Interlocked.Increment(ref _number);
                var time = Source.IsFile && fps > 0 ? (number - fileStart - 1) / (Source.MaxFps ?? fps) : now.ToUnixTimeMilliseconds() / 1000.0;
                frames++;
                Interlocked.Increment(ref _decoded);
                lock (_gate) { _lastFrameAt = now; if (_status != StreamStatus.Live) { _status = StreamStatus.Live; } }
                _frames.Writer.TryWrite(new VideoFrame(number, time, new RgbImage(w, h, buffer)));
            }
        }
        finally
        {
            Kill(p);
            stderr.Wait(TimeSpan.FromSeconds(5));
            lock (_gate) _process = null;
        }
        var exit = p.HasExited ? p.ExitCode : -1;
        p.Dispose();
        if (_stop.IsCancellationRequested) return (frames, false, null);
        if (stalled) return (frames, false, $"no frame for {_options.StallTimeout.TotalSeconds:0.#} s");
        // a file that was read to its end (and does not loop) ends the stream; anything else is reopened
        if (Source.IsFile && !Source.Loop && exit == 0) return (frames, true, null);
        return (frames, false, lastLine ?? $"ffmpeg exit code {exit}");
    }

    private static int ReadFull(Stream s, byte[] buffer)
    {
        int total = 0, n;
        while (total < buffer.Length && (n = s.Read(buffer, total, buffer.Length - total)) > 0) total += n;
        return total;
    }

    private static void Kill(Process p)
    {
        try { if (!p.HasExited) p.Kill(entireProcessTree: true); p.WaitForExit(5000); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    /// <summary>Stops the decoder and completes <see cref="Frames"/>.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        Process? p;
        lock (_gate) p = _process;
        if (p is not null) Kill(p);
        _loop?.Wait(TimeSpan.FromSeconds(15));
        _frames.Writer.TryComplete();
    }
}
