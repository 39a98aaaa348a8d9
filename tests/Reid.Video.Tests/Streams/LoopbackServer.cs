using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Reid.Video.Decoding;

namespace Reid.Video.Tests.Streams;

/// <summary>The shared video served live on loopback by an ffmpeg child, as a camera would stream it.</summary>
internal static class LoopbackServer
{
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>ffmpeg serving <paramref name="video"/> at its own rate, looping (for <paramref name="seconds"/> when given),
    /// as MPEG-TS to one TCP client on <paramref name="port"/>; <paramref name="log"/> is its stderr.</summary>
    public static Process Serve(string video, int port, out Task<string> log, double? seconds = null)
    {
        var psi = new ProcessStartInfo(Tools.FfmpegPath) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        var args = new List<string> { "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", video };
        if (seconds is { } s) args.AddRange(["-t", s.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        args.AddRange(["-c", "copy", "-f", "mpegts", $"tcp://127.0.0.1:{port}?listen=1"]);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        log = p.StandardError.ReadToEndAsync();
        return p;
    }

    public static void Stop(Process p)
    {
        try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        p.WaitForExit(5000);
        p.Dispose();
    }
}
