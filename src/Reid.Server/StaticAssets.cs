using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Reid.Server;

/// <summary>
/// The web UI: the files of wwwroot/ are embedded in this assembly (so `reid serve` works from any folder and
/// offline: no CDN) and served at / with their content types.
/// </summary>
internal static class StaticAssets
{
    private static readonly Dictionary<string, string> ContentTypes = new()
    {
        [".html"] = "text/html; charset=utf-8", [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8", [".svg"] = "image/svg+xml",
    };

    public static void Map(WebApplication app)
    {
        var assembly = typeof(StaticAssets).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("wwwroot/", StringComparison.Ordinal)))
        {
            var bytes = Read(assembly, resource);
            var file = resource["wwwroot/".Length..];
            var type = ContentTypes.GetValueOrDefault(Path.GetExtension(file), "application/octet-stream");
            IResult Serve(HttpContext http)
            {
                http.Response.Headers.CacheControl = "no-cache";
                http.Response.Headers.XContentTypeOptions = "nosniff";
                return Results.Bytes(bytes, type);
            }
            app.MapGet("/" + file, Serve).ExcludeFromDescription();
            if (file == "index.html") app.MapGet("/", Serve).ExcludeFromDescription();
        }
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var s = assembly.GetManifestResourceStream(name)!;
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }
}
