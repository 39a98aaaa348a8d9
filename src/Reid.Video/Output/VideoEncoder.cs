using System.Diagnostics;
using System.Globalization;
using System.Text;
using Reid.Core;
using Reid.Imaging;
using Reid.Video.Decoding;

namespace Reid.Video.Output;

/// <summary>
/// Encodes frames to an MP4 (H.264, yuv420p) by piping raw rgb24 frames into the ffmpeg command line.
/// stderr is drained concurrently; <see cref="Dispose"/> closes the pipe and waits for ffmpeg (killing
/// it if it hangs), so no process is left behind.
/// </summary>
public sealed class VideoEncoder : IDisposable
{
    private readonly Process _process;
    private readonly Stream _stdin;
    private readonly StringBuilder _stderr = new();
    private readonly Task _drain;
    private readonly int _width, _height;
    private bool _finished;

    public string Path { get; }

    public VideoEncoder(string path, int width, int height, double fps)
    {
        Path = path;
        // H.264 in yuv420p needs even sizes: pad one column/row when odd.
        (_width, _height) = (width, height);
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var args = new List<string>
        {
            "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", $"{width}x{height}", "-r", fps.ToString("0.###", CultureInfo.InvariantCulture), "-i", "pipe:0",
            "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
            "-pix_fmt", "yuv420p", "-movflags", "+faststart", path,
        };
        var psi = new ProcessStartInfo(Tools.FfmpegPath) { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try { _process = Process.Start(psi) ?? throw new ReidException("could not start ffmpeg"); }
        catch (System.ComponentModel.Win32Exception e) { throw new ReidException($"ffmpeg is not installed or not on PATH ({e.Message})"); }
        _stdin = _process.StandardInput.BaseStream;
        _drain = Task.Run(() =>
        {
            var buf = new char[4096];
            int n;
            while ((n = _process.StandardError.Read(buf, 0, buf.Length)) > 0)
                lock (_stderr) if (_stderr.Length < 8192) _stderr.Append(buf, 0, n);
        });
    }

    public void Write(RgbImage frame)
    {
        if (frame.Width != _width || frame.Height != _height)
            throw new ArgumentException($"frame is {frame.Width}x{frame.Height}, the video {_width}x{_height}");
        try { _stdin.Write(frame.Pixels); }
        catch (IOException) { throw new ReidException($"ffmpeg stopped while writing {Path}: {Error()}"); }
    }

    /// <summary>Closes the stream and waits for the file to be written; throws when ffmpeg failed.</summary>
    public void Finish()
    {
        if (_finished) return;
        _finished = true;
        try { _stdin.Close(); } catch (IOException) { }
        if (!_process.WaitForExit(120_000)) { _process.Kill(true); _process.WaitForExit(); }
        _drain.Wait(TimeSpan.FromSeconds(5));
        if (_process.ExitCode != 0) throw new ReidException($"ffmpeg could not write {Path}: {Error()}");
    }

    private string Error()
    {
        lock (_stderr) return _stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "no message";
    }

    public void Dispose()
    {
        if (!_finished)
        {
            _finished = true;
            try { _stdin.Close(); } catch (IOException) { }
            if (!_process.WaitForExit(30_000)) { try { _process.Kill(true); } catch (InvalidOperationException) { } _process.WaitForExit(); }
        }
        _process.Dispose();
    }
}
