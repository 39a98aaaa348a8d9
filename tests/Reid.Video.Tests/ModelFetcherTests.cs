using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Reid.TestSupport;
using Reid.Video.Models;

namespace Reid.Video.Tests;

/// <summary>Fetches from a local HTTP server (this machine has no internet).</summary>
public sealed class LocalHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    public string BaseUrl { get; }
    public int Requests;

    public LocalHttpServer(Func<string, (int Status, byte[] Body)> respond)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseUrl = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(BaseUrl);
        _listener.Start();
        _loop = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); } catch (Exception) { return; }
                Interlocked.Increment(ref Requests);
                var (status, body) = respond(ctx.Request.Url!.AbsolutePath);
                ctx.Response.StatusCode = status;
                ctx.Response.ContentLength64 = body.Length;
                await ctx.Response.OutputStream.WriteAsync(body);
                ctx.Response.Close();
            }
        });
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _listener.Stop();
        _listener.Close();
    }
}

public class ModelFetcherTests
{
    private static readonly byte[] Payload = Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray();
    private static KnownModel Model(string url) =>
        new("tiny", "tiny.onnx", url, Convert.ToHexStringLower(SHA256.HashData(Payload)), "MIT", "test");

    [Fact]
    public async Task Downloads_checks_the_hash_and_reuses_a_good_file()
    {
        using var server = new LocalHttpServer(_ => (200, Payload));
        using var dir = new TempDir();
        var path = await ModelFetcher.FetchAsync(Model(server.BaseUrl + "tiny.onnx"), dir.Path);
        Assert.Equal(Payload, File.ReadAllBytes(path));
        await ModelFetcher.FetchAsync(Model(server.BaseUrl + "tiny.onnx"), dir.Path);
        Assert.Equal(1, server.Requests);
        Assert.Single(Directory.GetFiles(dir.Path)); // no .part files left
    }

    [Fact]
    public async Task A_file_with_the_wrong_hash_is_refused_and_nothing_is_left()
    {
        using var server = new LocalHttpServer(_ => (200, Payload[..1000]));
        using var dir = new TempDir();
        var e = await Assert.ThrowsAsync<Core.ReidException>(() => ModelFetcher.FetchAsync(Model(server.BaseUrl + "x"), dir.Path));
        Assert.Contains("SHA-256", e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public async Task Http_errors_and_unreachable_hosts_are_clear_errors()
    {
        using var server = new LocalHttpServer(_ => (404, []));
        using var dir = new TempDir();
        var e = await Assert.ThrowsAsync<Core.ReidException>(() => ModelFetcher.FetchAsync(Model(server.BaseUrl + "x"), dir.Path));
        Assert.Contains("404", e.Message);
        server.Dispose();
        await Assert.ThrowsAsync<Core.ReidException>(() => ModelFetcher.FetchAsync(Model(server.BaseUrl + "x"), dir.Path));
        Assert.Throws<Core.ReidException>(() => ModelFetcher.Find("no-such-model"));
    }

    [SharedFact]
    public void The_catalog_hash_matches_the_shared_yolox_nano()
    {
        var m = ModelFetcher.Find("yolox-nano");
        Assert.Equal(m.Sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(SharedData.YoloxNano))));
    }
}
