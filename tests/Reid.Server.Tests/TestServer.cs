using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Reid.Gallery;
using Reid.Server;
using Reid.Gallery.Tests;
using Reid.TestSupport;

namespace Reid.Server.Tests;

/// <summary>A real Kestrel server on 127.0.0.1 (random port) over a temporary gallery, with a write and a read key.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly TempDir _dir;
    public WebApplication App { get; }
    public GalleryService Gallery { get; }
    public Uri BaseAddress { get; }
    public string WriteKey { get; }
    public string ReadKey { get; }

    private TestServer(TempDir dir, GalleryService gallery, WebApplication app)
    {
        (_dir, Gallery, App) = (dir, gallery, app);
        BaseAddress = new Uri(ReidServer.BoundAddresses(app).First());
        WriteKey = ApiKeys.EnsureAdminKey(gallery.Store)!;
        ReadKey = gallery.Store.CreateApiKey("viewer", KeyRole.Read, "test");
    }

    public static async Task<TestServer> StartAsync(Func<ServerOptions, ServerOptions>? configure = null, Func<GalleryService, VideoJobs>? video = null,
        Reid.SpatialTemporal.SpatialTemporalModel? travelTimes = null, SignInLinks? signIn = null, LiveHost? live = null)
    {
        var dir = new TempDir();
        var options = new ServerOptions(dir.Path, Urls: "http://127.0.0.1:0");
        options = configure?.Invoke(options) ?? options;
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), Fixtures.HistogramModel(), new GalleryOptions(UncalibratedThreshold: 0.8));
        var app = ReidServer.Build(options, gallery, video?.Invoke(gallery), travelTimes, signIn, live);
        await app.StartAsync();
        return new TestServer(dir, gallery, app);
    }

    public HttpClient Client(string? key)
    {
        var c = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null) c.DefaultRequestHeaders.Add(ApiKeys.Header, key);
        return c;
    }

    public static MultipartFormDataContent Form(IEnumerable<(string Name, byte[] Bytes)> images, params (string Key, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        foreach (var (k, v) in fields) form.Add(new StringContent(v), k);
        foreach (var (name, bytes) in images)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue(name.EndsWith(".png") ? "image/png" : "image/jpeg");
            form.Add(part, "images", name);
        }
        return form;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        _dir.Dispose();
    }
}
