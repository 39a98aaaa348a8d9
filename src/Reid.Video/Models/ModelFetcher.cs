using System.Security.Cryptography;
using Reid.Core;

namespace Reid.Video.Models;

/// <summary>A third-party model reid knows how to download: its official release address and SHA-256.</summary>
public sealed record KnownModel(string Name, string FileName, string Url, string Sha256, string License, string Description);

/// <summary>
/// Downloads known third-party models (which the project may not ship) from their official release addresses
/// into a per-user cache, checking the SHA-256 before the file is put in place: a failed or tampered download
/// leaves nothing behind.
/// </summary>
public static class ModelFetcher
{
    // The hash is that of the copy used for the project's benchmarks (../shared/models/yolox_nano.onnx); a
    // release file that differs is refused rather than silently used.
    public static readonly IReadOnlyList<KnownModel> Catalog =
    [
        new("yolox-nano", "yolox_nano.onnx",
            "https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx",
            "e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd", "Apache-2.0",
            "YOLOX-Nano COCO person/object detector, 416x416, raw YOLOX head (the detector the video benchmarks use)"),
    ];

    public static KnownModel Find(string name) =>
        Catalog.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ReidException($"unknown model '{name}'; known: {string.Join(", ", Catalog.Select(m => m.Name))}");

    /// <summary>$REID_MODELS_CACHE, else $XDG_CACHE_HOME/reid/models, else ~/.cache/reid/models.</summary>
    public static string CacheDir
    {
        get
        {
            if (Environment.GetEnvironmentVariable("REID_MODELS_CACHE") is { Length: > 0 } d) return d;
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var root = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg;
            return Path.Combine(root, "reid", "models");
        }
    }

    /// <summary>The cached file of a known model when it is present, else null (the hash is not re-checked here).</summary>
    public static string? Cached(KnownModel model, string? dir = null)
    {
        var path = Path.Combine(dir ?? CacheDir, model.FileName);
        return File.Exists(path) ? path : null;
    }

    /// <summary>
    /// Downloads <paramref name="model"/> (from <paramref name="urlOverride"/> when given, e.g. a mirror) into
    /// <paramref name="dir"/>; returns the path. A file already there with the right hash is kept as is.
    /// </summary>
    public static async Task<string> FetchAsync(KnownModel model, string? dir = null, string? urlOverride = null,
        HttpClient? http = null, IProgress<double>? progress = null, CancellationToken ct = default)
    {
        dir ??= CacheDir;
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, model.FileName);
        if (File.Exists(path) && await HashAsync(path, ct) == model.Sha256) return path;

        var url = urlOverride ?? model.Url;
        var temp = path + $".part-{Environment.ProcessId}";
        var client = http ?? new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        try
        {
            using (var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct))
            {
                if (!response.IsSuccessStatusCode)
                    throw new ReidException($"downloading {model.Name} from {url} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                long? length = response.Content.Headers.ContentLength;
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                await using var file = File.Create(temp);
                var buffer = new byte[1 << 16];
                long done = 0;
                int n;
                while ((n = await body.ReadAsync(buffer, ct)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, n), ct);
                    done += n;
                    if (length is > 0) progress?.Report((double)done / length.Value);
                }
            }
            var hash = await HashAsync(temp, ct);
            if (hash != model.Sha256)
                throw new ReidException($"{model.Name} from {url} has SHA-256 {hash}, expected {model.Sha256}: refusing it (corrupt download or a different file)");
            File.Move(temp, path, overwrite: true);
            return path;
        }
        catch (HttpRequestException e)
        {
            throw new ReidException($"downloading {model.Name} from {url} failed: {e.Message} (no network? download it yourself and pass --detector PATH)");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ReidException($"downloading {model.Name} from {url} timed out");
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
            if (http is null) client.Dispose();
        }
    }

    private static async Task<string> HashAsync(string path, CancellationToken ct)
    {
        await using var s = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(s, ct));
    }
}
