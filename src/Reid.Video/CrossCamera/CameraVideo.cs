using System.Globalization;
using Reid.Core;

namespace Reid.Video.CrossCamera;

/// <summary>
/// One camera's video: the camera id, the file (or MOT image-sequence folder), the wall-clock time of its
/// frame 1 and optionally an inclusive 1-based frame range. Written on the command line as
/// <c>CAMERA=PATH@START</c> or <c>CAMERA=PATH#FROM-TO@START</c>, START in ISO 8601 with a zone
/// (<c>2026-11-21T10:00:00Z</c>, <c>2026-11-21T11:00:00+01:00</c>).
/// </summary>
public sealed record CameraVideo(string Camera, string Path, DateTimeOffset Start, long? From = null, long? To = null)
{
    public const string Syntax = "CAMERA=PATH@START or CAMERA=PATH#FROM-TO@START, START in ISO 8601 with a zone (e.g. cam1=a.mp4@2026-11-21T10:00:00Z)";

    /// <summary>Start as seconds since the Unix epoch: the time line all cameras share.</summary>
    public double StartSeconds => Start.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>Absolute time of a moment <paramref name="seconds"/> after frame 1.</summary>
    public DateTimeOffset At(double seconds) => Start.AddSeconds(seconds);

    /// <exception cref="ReidException">The spec does not follow <see cref="Syntax"/>.</exception>
    public static CameraVideo Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int eq = spec.IndexOf('=');
        int at = spec.LastIndexOf('@');
        if (eq <= 0 || at < eq + 2 || at == spec.Length - 1)
            throw new ReidException($"bad camera video '{spec}': expected {Syntax}");
        var camera = spec[..eq].Trim();
        var path = spec[(eq + 1)..at];
        var time = spec[(at + 1)..];
        if (camera.Length == 0 || camera.Any(char.IsControl))
            throw new ReidException($"bad camera video '{spec}': empty or unprintable camera id");
        if (!DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.None, out var start) || !HasZone(time))
            throw new ReidException($"bad camera video '{spec}': start '{time}' is not an ISO 8601 time with a zone (e.g. 2026-11-21T10:00:00Z)");

        long? from = null, to = null;
        int hash = path.LastIndexOf('#');
        if (hash >= 0)
        {
            var range = path[(hash + 1)..];
            path = path[..hash];
            var parts = range.Split('-');
            if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var f)
                || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var t) || f < 1 || t < f)
                throw new ReidException($"bad camera video '{spec}': frame range '{range}' must be FROM-TO with 1 ≤ FROM ≤ TO");
            (from, to) = (f, t);
        }
        if (path.Length == 0) throw new ReidException($"bad camera video '{spec}': no path");
        return new CameraVideo(camera, path, start, from, to);
    }

    // "2026-11-21T10:00:00" alone would be read in the machine's zone: cameras on different machines disagree.
    private static bool HasZone(string time)
    {
        var t = time.Trim();
        if (t.EndsWith('Z') || t.EndsWith('z')) return true;
        int tIndex = t.IndexOfAny(['T', 't', ' ']);
        return tIndex > 0 && t.AsSpan(tIndex).IndexOfAny('+', '-') > 0;
    }
}
