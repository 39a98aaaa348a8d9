using Reid.Core;
using Reid.Core.Config;

namespace Reid.Video.Streams;

/// <summary>
/// The cameras of a watch, from the command line (<c>ID=URL</c>) or a YAML file read through the project's config
/// binder (<c>cameras:</c> a list of <c>{id, url, max_fps, loop}</c>; every problem named with its key and line),
/// checked as a set: ids unique, URLs that ffmpeg can be asked to open.
/// </summary>
public static class CameraList
{
    public const string Syntax = "ID=URL, e.g. cam1=rtsp://10.0.0.5/stream or cam2=tcp://127.0.0.1:9000 or cam3=/videos/door.mp4";

    /// <summary>The schemes handed to ffmpeg; anything else is refused up front rather than retried for ever.</summary>
    public static readonly IReadOnlySet<string> Schemes = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        { "rtsp", "rtsps", "rtmp", "http", "https", "tcp", "udp", "rtp", "srt", "file" };

    /// <summary>One <c>ID=URL</c> from the command line.</summary>
    public static CameraSource Parse(string spec)
    {
        int eq = spec.IndexOf('=');
        if (eq <= 0 || eq == spec.Length - 1) throw new ReidException($"bad camera '{spec}': expected {Syntax}");
        return new CameraSource(spec[..eq].Trim(), spec[(eq + 1)..].Trim());
    }

    /// <summary>The YAML file's cameras, checked (<see cref="Check"/>).</summary>
    public static IReadOnlyList<CameraSource> Load(string path)
    {
        if (!File.Exists(path)) throw new ReidException($"camera list not found: {path}");
        var full = Path.GetFullPath(path);
        var (file, problems) = ConfigBinder.Bind<CamerasFile>(File.ReadAllText(full), full);
        problems.Check(file.Cameras.Length > 0, "cameras", "cameras: no camera listed (a list of {id, url, max_fps, loop})");
        var dir = Path.GetDirectoryName(full)!;
        // A file named relative to the YAML file is found wherever the command runs.
        string Resolved(string url) => url.Length > 0 && IsPath(url) ? Path.GetFullPath(url, dir) : url;
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < file.Cameras.Length; i++)
        {
            var c = file.Cameras[i];
            var key = $"cameras[{i}]";
            if (string.IsNullOrWhiteSpace(c.Id)) problems.Add($"{key}.id", $"{key}.id: every camera needs an id");
            else if (!seen.TryAdd(c.Id, i)) problems.Add($"{key}.id", $"{key}.id: camera id '{c.Id}' is used twice (also cameras[{seen[c.Id]}])");
            if (string.IsNullOrWhiteSpace(c.Url)) problems.Add($"{key}.url", $"{key}.url: every camera needs a url");
            else if (UrlProblem(Resolved(c.Url)) is { } bad) problems.Add($"{key}.url", $"{key}.url: {bad}");
            if (c.MaxFps is { } fps) problems.Check(fps > 0, $"{key}.max_fps", $"{key}.max_fps must be above 0, not {fps}");
        }
        problems.ThrowIfAny();
        return file.Cameras.Select(c => new CameraSource(c.Id, Resolved(c.Url), c.MaxFps, c.Loop)).ToList();
    }

    /// <summary>Refuses a set with a repeated id, or a camera whose URL ffmpeg will never open: a ReidException naming it.</summary>
    public static IReadOnlyList<CameraSource> Check(IReadOnlyList<CameraSource> cameras)
    {
        if (cameras.Count == 0) throw new ReidException("no camera given");
        foreach (var dup in cameras.GroupBy(c => c.Id, StringComparer.Ordinal).Where(g => g.Count() > 1))
            throw new ReidException($"camera id '{dup.Key}' is used twice");
        foreach (var c in cameras)
        {
            if (string.IsNullOrWhiteSpace(c.Id)) throw new ReidException($"a camera needs an id ({c.Url})");
            if (UrlProblem(c.Url) is { } bad) throw new ReidException($"camera {c.Id}: {bad}");
            if (c.MaxFps is <= 0) throw new ReidException($"camera {c.Id}: the frame-rate cap must be above 0, not {c.MaxFps}");
        }
        return cameras;
    }

    private static bool IsPath(string url) => !url.Contains("://", StringComparison.Ordinal);

    private static string? UrlProblem(string url)
    {
        if (IsPath(url)) return File.Exists(url) ? null : $"'{url}' is neither a URL (rtsp://, http://, tcp://, udp://, …) nor an existing file";
        var scheme = url[..url.IndexOf("://", StringComparison.Ordinal)];
        if (!Schemes.Contains(scheme)) return $"'{url}': unsupported scheme '{scheme}' (use one of {string.Join(", ", Schemes.Order())})";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "file" && string.IsNullOrEmpty(uri.Host)))
            return $"'{url}' is not a valid URL (no host)";
        if (uri.Scheme == "file" && !File.Exists(uri.LocalPath)) return $"'{url}': no such file";
        return null;
    }

    /// <summary>The YAML file's shape.</summary>
    public sealed class CamerasFile
    {
        public CameraEntry[] Cameras { get; init; } = [];
    }

    public sealed class CameraEntry
    {
        public string Id { get; init; } = "";
        public string Url { get; init; } = "";
        public double? MaxFps { get; init; }
        public bool Loop { get; init; }
    }
}
