using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Reid.Core;
using Reid.Imaging;

namespace Reid.Video.Decoding;

/// <summary>
/// Decodes any container/codec ffmpeg knows by piping raw rgb24 frames from the ffmpeg command line
/// (ffprobe first, for size, rate and length). The child process's stderr is drained concurrently so it can
/// never block on a full pipe, and the process is killed and reaped when reading stops early.
/// Timestamps are frame number / average frame rate (exact for constant-rate video).
/// </summary>
public sealed class FfmpegVideoSource : IFrameSource
{
    private readonly FrameRange _range;
    private Process? _process;

    public VideoInfo Info { get; }
    public long? ExpectedFrames { get; }
    public string? Warning { get; private set; }

    /// <summary>The decoding ffmpeg child's process id once reading has started (for diagnostics and tests).</summary>
    public int? DecoderProcessId { get; private set; }

    public FfmpegVideoSource(string path, FrameRange? range = null)
    {
        _range = range ?? FrameRange.All;
        _range.Validate();
        if (!File.Exists(path)) throw new ReidException($"video not found: {path}");
        Info = Probe(path);
        long last = Info.FrameCount ?? long.MaxValue;
        if (_range.To is not null) last = Math.Min(last, _range.To.Value);
        if (Info.FrameCount is not null && _range.First > Info.FrameCount)
            throw new ReidException($"--from {_range.First} is past the end of {path} ({Info.FrameCount} frames)");
        ExpectedFrames = last == long.MaxValue ? null : (last - _range.First) / _range.Step + 1;
    }

    public static VideoInfo Probe(string path)
    {
        var (code, stdout, stderr) = Run(Tools.FfprobePath, [
            "-v", "error", "-select_streams", "v:0",
            "-show_entries", "stream=width,height,avg_frame_rate,r_frame_rate,nb_frames,duration:format=duration",
            "-of", "json", path]);
        if (code != 0)
            throw new ReidException($"not a readable video: {path} ({FirstLine(stderr) ?? $"ffprobe exit code {code}"})");
        try
        {
            using var doc = JsonDocument.Parse(stdout);
            var streams = doc.RootElement.GetProperty("streams");
            if (streams.GetArrayLength() == 0) throw new ReidException($"no video stream in {path}");
            var s = streams[0];
            int w = s.TryGetProperty("width", out var we) ? we.GetInt32() : 0;
            int h = s.TryGetProperty("height", out var he) ? he.GetInt32() : 0;
            if (w <= 0 || h <= 0 || (long)w * h > 8192L * 8192) throw new ReidException($"unusable frame size {w}x{h} in {path}");
            double fps = Rate(s, "avg_frame_rate") ?? Rate(s, "r_frame_rate") ?? 25;
            long? frames = s.TryGetProperty("nb_frames", out var nf) && long.TryParse(nf.GetString(), out var n) && n > 0 ? n : null;
            if (frames is null)
            {
                double? dur = Seconds(s, "duration");
                if (dur is null && doc.RootElement.TryGetProperty("format", out var fmt)) dur = Seconds(fmt, "duration");
                if (dur is > 0) frames = (long)Math.Round(dur.Value * fps);
            }
            return new VideoInfo(path, w, h, fps, frames);
        }
        catch (JsonException e)
        {
            throw new ReidException($"ffprobe gave unreadable output for {path}: {e.Message}");
        }
    }

    public IEnumerable<VideoFrame> ReadFrames(CancellationToken ct = default)
    {
        if (_process is not null) throw new InvalidOperationException("frames can be read once per source");
        double fps = Info.FramesPerSecond;
        var args = new List<string> { "-nostdin", "-v", "error", "-noautorotate" };
        if (_range.First > 1)
            args.AddRange(["-ss", ((_range.First - 1) / fps).ToString("0.######", CultureInfo.InvariantCulture)]);
        args.AddRange(["-i", Info.Path, "-map", "0:v:0", "-an", "-sn"]);
        if (_range.Step > 1) args.AddRange(["-vf", $"select=not(mod(n\\,{_range.Step}))"]);
        args.AddRange(["-fps_mode", "passthrough"]);
        if (ExpectedFrames is not null && _range.To is not null) args.AddRange(["-frames:v", ExpectedFrames.Value.ToString(CultureInfo.InvariantCulture)]);
        args.AddRange(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);

        _process = Start(Tools.FfmpegPath, args);
        DecoderProcessId = _process.Id;
        var stderr = new StringBuilder();
        var stderrTask = Task.Run(() => DrainLimited(_process.StandardError, stderr));
        var stdout = _process.StandardOutput.BaseStream;
        int frameBytes = checked(Info.Width * Info.Height * 3);
        long read = 0;
        bool endOfStream = false;
        string? cutShort = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var buffer = new byte[frameBytes];
                int got = ReadFull(stdout, buffer);
                if (got < frameBytes)
                {
                    endOfStream = true;
                    if (got > 0) cutShort = $"the last frame was cut short after {read} complete frames";
                    break;
                }
                long number = _range.First + read * _range.Step;
                read++;
                yield return new VideoFrame(number, (number - 1) / fps, new RgbImage(Info.Width, Info.Height, buffer));
            }
        }
        finally
        {
            // At the end of the stream ffmpeg exits by itself (give it time to say why); otherwise the
            // consumer stopped early and the process is killed. Either way it is reaped: no zombies.
            if (endOfStream) _process.WaitForExit(10_000);
            StopProcess();
            stderrTask.Wait(TimeSpan.FromSeconds(5));
        }
        if (!endOfStream) yield break;
        int exit = _process.ExitCode;
        string? err;
        lock (stderr) err = FirstLine(stderr.ToString());
        string name = Path.GetFileName(Info.Path);
        if (cutShort is not null || exit != 0)
            Warning = $"{name}: decoding stopped after {read} frames" + (ExpectedFrames is null ? "" : $" of {ExpectedFrames} expected") +
                      $" ({cutShort ?? err ?? $"ffmpeg exit code {exit}"}); the frames read so far were kept";
        else if (ExpectedFrames is not null && read < ExpectedFrames - 1) // lengths from a duration may be off by one
            Warning = $"{name}: the stream ended after {read} of {ExpectedFrames} expected frames ({err ?? "truncated file?"}); the frames read so far were kept";
        if (read == 0 && (Warning is not null || err is not null))
            throw new ReidException($"{name}: no frame could be decoded ({err ?? cutShort ?? $"ffmpeg exit code {exit}"})");
    }

    internal static Process Start(string exe, IEnumerable<string> args, bool redirectStdin = false)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = !redirectStdin, RedirectStandardError = true, RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try { return Process.Start(psi) ?? throw new ReidException($"could not start {exe}"); }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ReidException($"{exe} is not installed or not on PATH ({e.Message}); install ffmpeg (Debian: apt-get install ffmpeg) or set REID_FFMPEG/REID_FFPROBE");
        }
    }

    private static int ReadFull(Stream s, byte[] buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer, total, buffer.Length - total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static void DrainLimited(StreamReader reader, StringBuilder into)
    {
        // Keep the first few kilobytes (the useful message); keep reading so ffmpeg never blocks.
        var buf = new char[4096];
        int n;
        while ((n = reader.Read(buf, 0, buf.Length)) > 0)
            lock (into) if (into.Length < 8192) into.Append(buf, 0, n);
    }

    private void StopProcess()
    {
        var p = _process;
        if (p is null) return;
        try
        {
            if (!p.HasExited)
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }
            p.WaitForExit(10_000);
        }
        catch (System.ComponentModel.Win32Exception) { }
    }

    public void Dispose()
    {
        StopProcess();
        _process?.Dispose();
    }

    private static double? Rate(JsonElement s, string name)
    {
        if (!s.TryGetProperty(name, out var e) || e.GetString() is not { } text) return null;
        var parts = text.Split('/');
        if (parts.Length == 2 && double.TryParse(parts[0], CultureInfo.InvariantCulture, out var a) &&
            double.TryParse(parts[1], CultureInfo.InvariantCulture, out var b) && a > 0 && b > 0)
            return a / b;
        return null;
    }

    private static double? Seconds(JsonElement s, string name) =>
        s.TryGetProperty(name, out var e) && double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    private static string? FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();

    internal static (int Code, string Stdout, string Stderr) Run(string exe, IEnumerable<string> args)
    {
        using var p = Start(exe, args);
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }
}

/// <summary>Where the ffmpeg tools are: on PATH, or where REID_FFMPEG / REID_FFPROBE point.</summary>
public static class Tools
{
    public static string FfmpegPath => Environment.GetEnvironmentVariable("REID_FFMPEG") is { Length: > 0 } p ? p : "ffmpeg";
    public static string FfprobePath => Environment.GetEnvironmentVariable("REID_FFPROBE") is { Length: > 0 } p ? p : "ffprobe";
}
