using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Reid.Core;
using Reid.TestSupport;
using Reid.Video.Decoding;
using Reid.Video.Streams;

namespace Reid.Video.Tests.Streams;

/// <summary>Live streams on loopback: the shared video served by an ffmpeg child in real time, as a camera would.</summary>
public class CameraStreamTests
{
    private static string SharedVideo => SharedData.Path("data", "videos", "one-by-one-person-detection.mp4");

    private static int FreePort() => LoopbackServer.FreePort();

    /// <summary>ffmpeg serving the shared video at its own rate, looping, as MPEG-TS to one TCP client on <paramref name="port"/>.</summary>
    private static Process Serve(int port)
    {
        var p = LoopbackServer.Serve(SharedVideo, port, out var log);
        ServerLog = log;
        return p;
    }

    private static Task<string>? ServerLog;

    private static void Stop(Process p) => LoopbackServer.Stop(p);

    private static bool WaitFor(CameraStream s, Func<StreamState, bool> ok, TimeSpan timeout, Action? meanwhile = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (ok(s.State)) return true;
            meanwhile?.Invoke();
            Thread.Sleep(100);
        }
        return ok(s.State);
    }

    private static bool WaitUntilListening(int port, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException) { Thread.Sleep(200); }
        }
        return false;
    }

    private static readonly StreamOptions Quick = new() { StallTimeout = TimeSpan.FromSeconds(4), BackoffMin = TimeSpan.FromMilliseconds(200), BackoffMax = TimeSpan.FromSeconds(1) };

    [SharedFact]
    public async Task A_tcp_camera_goes_live_and_a_dead_server_is_reconnected_when_it_comes_back()
    {
        var port = FreePort();
        var server = Serve(port);
        using var stream = new CameraStream(new CameraSource("cam1", $"tcp://127.0.0.1:{port}"), Quick).Start();
        try
        {
            Assert.True(WaitFor(stream, s => s.Status == StreamStatus.Live && s.FramesDecoded >= 10, TimeSpan.FromSeconds(30)),
                $"{stream.State}; server {(server.HasExited ? $"exited {server.ExitCode}: {ServerLog?.Result}" : "running")}");
            var first = await stream.Frames.ReadAsync();
            var second = await stream.Frames.ReadAsync();
            Assert.True(second.Number > first.Number);
            Assert.Equal((768, 432), (first.Image.Width, first.Image.Height));
            // a live source's frame times are the wall clock
            Assert.InRange(first.Timestamp, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 30, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);

            Stop(server);
            Assert.True(WaitFor(stream, s => s.Status != StreamStatus.Live, TimeSpan.FromSeconds(15)), $"{stream.State}");
            Assert.NotNull(stream.State.LastError);
            var before = stream.State.FramesDecoded;

            server = Serve(port);
            Assert.True(WaitFor(stream, s => s.Status == StreamStatus.Live && s.FramesDecoded > before + 5, TimeSpan.FromSeconds(30)), $"{stream.State}");
            Assert.True(stream.State.Reconnects >= 1);
        }
        finally { Stop(server); }
    }

    /// <summary>
    /// A real RTSP server (Debian's rtsp-server-perl, a relay): ffmpeg publishes the shared video to it as a camera
    /// would (RTSP RECORD), and the stream plays it back from the server's client port.
    /// </summary>
    [RtspServerFact]
    public async Task An_rtsp_camera_served_by_a_real_rtsp_server_goes_live()
    {
        var (clientPort, sourcePort) = (FreePort(), FreePort());
        var rtpStart = 20000 + Random.Shared.Next(0, 2000) * 20;
        var psi = new ProcessStartInfo(RtspServerFactAttribute.Server!) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-c", $"{clientPort}", "-s", $"{sourcePort}", "--rtp_start_port", $"{rtpStart}",
                     "--client_listen_address", "127.0.0.1", "--source_listen_address", "127.0.0.1" })
            psi.ArgumentList.Add(a);
        var server = Process.Start(psi)!;
        var serverOut = server.StandardOutput.ReadToEndAsync();
        var serverErr = server.StandardError.ReadToEndAsync();
        Process? publisher = null;
        var publisherErrors = new List<Task<string>>();
        try
        {
            var publish = new ProcessStartInfo(Tools.FfmpegPath) { UseShellExecute = false, RedirectStandardError = true };
            foreach (var a in new[] { "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", SharedVideo, "-c", "copy", "-f", "rtsp",
                         "-rtsp_transport", "udp", $"rtsp://127.0.0.1:{sourcePort}/cam1" })
                publish.ArgumentList.Add(a);
            // perl starts slowly on a loaded machine: publish only once the server listens
            Assert.True(WaitUntilListening(sourcePort, TimeSpan.FromSeconds(30)), $"the RTSP server never listened on {sourcePort}; exited: {server.HasExited}");
            // a publisher that gives up (refused, or dropped by the relay) is started again while we wait, as a camera would reconnect
            void KeepPublishing()
            {
                if (publisher is { HasExited: false }) return;
                publisher?.Dispose();
                publisher = Process.Start(publish)!;
                publisherErrors.Add(publisher.StandardError.ReadToEndAsync());
            }
            KeepPublishing();
            using var stream = new CameraStream(new CameraSource("rtsp-cam", $"rtsp://127.0.0.1:{clientPort}/cam1"), Quick).Start();
            var live = WaitFor(stream, s => s.Status == StreamStatus.Live && s.FramesDecoded >= 10, TimeSpan.FromSeconds(60), KeepPublishing);
            Assert.True(live, $"{stream.State}; publisher starts {publisherErrors.Count}, their errors: " +
                              string.Join(" | ", publisherErrors.Where(t => t.IsCompleted).Select(t => t.Result.Trim())) +
                              $"; server {(server.HasExited ? $"exited {server.ExitCode}: {serverErr.Result} {serverOut.Result}" : "running")}");
            var frame = await stream.Frames.ReadAsync();
            Assert.Equal((768, 432), (frame.Image.Width, frame.Image.Height));
        }
        finally
        {
            if (publisher is not null) Stop(publisher);
            Stop(server);
        }
    }

    [SharedFact]
    public void A_consumer_that_falls_behind_loses_the_oldest_frames_and_the_queue_stays_bounded()
    {
        using var stream = new CameraStream(new CameraSource("file", SharedVideo, Loop: true), Quick with { QueueFrames = 2 }).Start();
        // nobody reads for a while: frames keep arriving in real time and the oldest are dropped
        Assert.True(WaitFor(stream, s => s.FramesDropped >= 10, TimeSpan.FromSeconds(30)), $"{stream.State}");
        Assert.True(stream.Frames.Count <= 2);
        var s = stream.State;
        Assert.InRange(s.FramesDecoded - s.FramesDropped, 0, 2 + 3);   // what is not dropped waits in the queue (frames keep coming meanwhile)
        // a file's frame times are presentation times: 10 fps from 0
        Assert.True(stream.Frames.TryRead(out var f));
        Assert.Equal((f.Number - 1) / 10.0, f.Timestamp, 3);
    }

    /// <summary>
    /// A camera whose encoder is reconfigured mid-stream (320x240, then 640x360): the consumer keeps seeing frames of the
    /// first size (ffmpeg scales the rest back), the stream stays live without a reconnect, and no frame is torn.
    /// </summary>
    [Fact]
    public void A_stream_that_changes_resolution_mid_way_keeps_its_first_size_and_stays_live()
    {
        var dir = Directory.CreateTempSubdirectory("reid-resize-");
        try
        {
            // two MPEG-TS segments of different sizes joined byte for byte: one transport stream whose resolution changes
            // (the second's clock continues the first's, as one camera's would)
            var parts = new[] { ("a.ts", "320x240", "testsrc", "0"), ("b.ts", "640x360", "testsrc2", "3") };
            foreach (var (name, size, src, offset) in parts)
                RunFfmpeg("-v", "error", "-y", "-f", "lavfi", "-i", $"{src}=size={size}:rate=10", "-t", "3", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-g", "10", "-output_ts_offset", offset, "-f", "mpegts", Path.Combine(dir.FullName, name));
            var joined = Path.Combine(dir.FullName, "joined.ts");
            File.WriteAllBytes(joined, [.. File.ReadAllBytes(Path.Combine(dir.FullName, "a.ts")), .. File.ReadAllBytes(Path.Combine(dir.FullName, "b.ts"))]);

            var port = FreePort();
            var server = LoopbackServer.Serve(joined, port, out var log, seconds: 6);
            using var stream = new CameraStream(new CameraSource("resize", $"tcp://127.0.0.1:{port}"), Quick with { QueueFrames = 200 }).Start();
            try
            {
                var frames = new List<VideoFrame>();
                var clock = Stopwatch.StartNew();
                int? reconnectsAtFirstFrame = null;   // the first connection may be refused before ffmpeg listens (a loaded machine)
                while (frames.Count < 50 && clock.Elapsed < TimeSpan.FromSeconds(40))
                    if (stream.Frames.TryRead(out var f)) { reconnectsAtFirstFrame ??= stream.State.Reconnects; frames.Add(f); }
                    else Thread.Sleep(20);
                // 3 s of each size at 10 fps: frames from both halves arrived, all at the first size
                Assert.True(frames.Count >= 50, $"{frames.Count} frames; {stream.State}; server {(server.HasExited ? log.Result : "running")}");
                Assert.All(frames, f => Assert.Equal((320, 240), (f.Image.Width, f.Image.Height)));
                Assert.All(frames, f => Assert.Equal(320 * 240 * 3, f.Image.Pixels.Length));
                Assert.True(stream.State.Reconnects == reconnectsAtFirstFrame, $"the resolution change cost a reconnect: {stream.State}");
                Assert.Equal((320, 240), (stream.State.Width, stream.State.Height));
                // testsrc2 after the switch looks nothing like testsrc before it: the later frames are the second segment's, scaled
                Assert.NotEqual(MeanColour(frames[5]), MeanColour(frames[^1]));
            }
            finally { LoopbackServer.Stop(server); }
        }
        finally { dir.Delete(true); }
    }

    private static (int, int, int) MeanColour(VideoFrame f)
    {
        long r = 0, g = 0, b = 0;
        var p = f.Image.Pixels;
        for (int i = 0; i < p.Length; i += 3) { r += p[i]; g += p[i + 1]; b += p[i + 2]; }
        var n = p.Length / 3;
        return ((int)(r / n / 8), (int)(g / n / 8), (int)(b / n / 8));
    }

    private static void RunFfmpeg(params string[] args)
    {
        var psi = new ProcessStartInfo(Tools.FfmpegPath) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"ffmpeg {string.Join(' ', args)}: {err}");
    }

    [Fact]
    public void An_unreachable_camera_reports_failed_with_its_error_and_stops_cleanly()
    {
        var port = FreePort(); // nothing listens there
        var stream = new CameraStream(new CameraSource("gone", $"tcp://127.0.0.1:{port}"), Quick with { FailedAfter = 2 }).Start();
        Assert.True(WaitFor(stream, s => s.Status == StreamStatus.Failed, TimeSpan.FromSeconds(30)), $"{stream.State}");
        Assert.False(string.IsNullOrWhiteSpace(stream.State.LastError));
        Assert.Equal(0, stream.State.FramesDecoded);
        var clock = Stopwatch.StartNew();
        stream.Dispose();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15));
        Assert.Equal(StreamStatus.Stopped, stream.State.Status);
        Assert.True(stream.Frames.Completion.IsCompleted);
    }

    [Fact]
    public void A_file_that_is_not_video_is_a_failure_with_ffmpegs_reason()
    {
        using var dir = new TempDir();
        var text = dir.File("notes.mp4");
        File.WriteAllText(text, "this is not a video");
        using var stream = new CameraStream(new CameraSource("bad", text), Quick with { FailedAfter = 1 }).Start();
        Assert.True(WaitFor(stream, s => s.Status == StreamStatus.Failed, TimeSpan.FromSeconds(20)), $"{stream.State}");
        Assert.Contains("notes.mp4", stream.State.LastError);
    }

    [Fact]
    public void A_camera_without_id_or_url_or_with_a_zero_rate_cap_is_refused()
    {
        Assert.Throws<ReidException>(() => new CameraStream(new CameraSource("", "tcp://127.0.0.1:9")));
        Assert.Throws<ReidException>(() => new CameraStream(new CameraSource("c", " ")));
        Assert.Throws<ReidException>(() => new CameraStream(new CameraSource("c", "x.mp4", MaxFps: 0)));
    }
}

/// <summary>Needs ../shared and Debian's rtsp-server-perl (scripts/setup.sh installs it); skipped with the reason otherwise.</summary>
public sealed class RtspServerFactAttribute : FactAttribute
{
    public static string? Server => new[] { "/usr/bin/rtsp-server-perl", "/usr/local/bin/rtsp-server-perl" }.FirstOrDefault(File.Exists);

    public RtspServerFactAttribute()
    {
        if (!SharedData.Available) Skip = SharedData.SkipReason;
        else if (Server is null) Skip = "needs an RTSP server: Debian's rtsp-server-perl (apt-get install rtsp-server-perl; scripts/setup.sh installs it)";
    }
}
