using System.Diagnostics;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Reid.Core;
using Reid.Gallery;

namespace Reid.Server;

/// <summary>
/// The HTTP API and web UI over one <see cref="GalleryService"/>: minimal-API endpoints under /api (JSON answers,
/// multipart uploads), /health, the OpenAPI document at /openapi/v1.json, and the single-page UI at /.
/// </summary>
public static class ReidServer
{
    public const string RateLimitPolicy = "per-key";

    /// <param name="travelTimes">a camera network's travel-time model (`reid st learn`): identify and search then
    /// rescale scores by the probe's 'camera' and 'time' fields</param>
    /// <param name="signIn">one-time sign-in links `reid serve` prints; null: none (the UI takes a pasted key)</param>
    /// <param name="live">the event hub, live frames and (`reid serve --watch`) the camera watcher; null: a hub of its own, no watcher</param>
    public static WebApplication Build(ServerOptions options, GalleryService gallery, VideoJobs? video = null,
        Reid.SpatialTemporal.SpatialTemporalModel? travelTimes = null, SignInLinks? signIn = null, LiveHost? live = null)
    {
        live ??= new LiveHost();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "Reid.Server" });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = Math.Max(options.MaxImageRequestBytes, options.MaxVideoRequestBytes);
            k.AddServerHeader = false;
        });
        builder.Logging.ClearProviders();
        if (options.JsonLogs) builder.Logging.AddJsonConsole();
        else builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.Configure<FormOptions>(f =>
        {
            f.MultipartBodyLengthLimit = options.MaxVideoRequestBytes;
            f.ValueCountLimit = 64;
        });
        builder.Services.ConfigureHttpJsonOptions(j => ReidJson.Apply(j.SerializerOptions));
        builder.Services.AddOpenApi(ApiContract.Configure);
        builder.Services.AddRateLimiter(r =>
        {
            r.RejectionStatusCode = 429;
            r.OnRejected = async (ctx, ct) =>
                await ctx.HttpContext.Response.WriteAsJsonAsync(new ApiError("rate limit exceeded: slow down"), ct);
            r.AddPolicy(RateLimitPolicy, http => RateLimitPartition.GetTokenBucketLimiter(
                ApiKeys.Presented(http.Request) ?? http.Connection.RemoteIpAddress?.ToString() ?? "anonymous",
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.Burst,
                    TokensPerPeriod = options.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
        });
        builder.Services.AddSingleton(gallery);
        if (live.Watching)
        {
            // Stopping the server stops the watcher, which finishes and stores every open track first: give it time.
            builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(60));
            builder.Services.AddHostedService(sp => new WatchService(live, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Reid.Server.Watch")));
        }

        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Reid.Server");
        app.Use((http, next) => HandleErrors(http, next, log));
        app.UseRateLimiter();
        app.MapOpenApi();
        StaticAssets.Map(app);
        app.MapGet("/health", () => new HealthDto("ok", gallery.Model.Id, gallery.Index.Count)).WithName("Health").WithSummary("Liveness: ok when the server answers");

        var failures = new FailedAuthLimiter(options.FailedAuthPerMinute);
        if (signIn is not null)
            app.MapPost("/signin", async (HttpContext http) =>
                {
                    var form = await GalleryEndpoints.ReadForm(http, 4096);
                    if (signIn.Redeem(form["code"]))
                    {
                        var key = gallery.Store.CreateApiKey($"web UI sign-in {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}Z", KeyRole.Write, "sign-in link");
                        return Results.Json(new SignInDto(key, "write"));
                    }
                    if (!failures.TryCount(http.Connection.RemoteIpAddress?.ToString() ?? "unknown"))
                        return Results.Json(new ApiError("too many failed sign-ins from this address: wait a minute"), statusCode: 429);
                    return Results.Json(new ApiError("this sign-in link was used already or has expired: restart `reid serve` for a new one, or paste an API key"), statusCode: 401);
                })
                .RequireRateLimiting(RateLimitPolicy)
                .WithName("SignIn").Answers<SignInDto>().Form(new FormField("code", FieldKind.Text, "the code from the sign-in link", Required: true)).Fails(401, 429)
                .WithSummary("Trade a one-time sign-in code (from the link `reid serve` prints) for a new read-write API key")
                .DisableAntiforgery();
        var read = app.MapGroup("/api").RequireRateLimiting(RateLimitPolicy).AddEndpointFilter(ApiKeys.Require(gallery.Store, KeyRole.Read, failures))
            .FailsWith(401, 429);
        var write = app.MapGroup("/api").RequireRateLimiting(RateLimitPolicy).AddEndpointFilter(ApiKeys.Require(gallery.Store, KeyRole.Write, failures))
            .FailsWith(401, 403, 429);
        GalleryEndpoints.Map(read, write, gallery, options, video is not null, travelTimes);
        video?.Map(read, write, options, log);
        LiveEndpoints.Map(read, live, app.Lifetime);
        return app;
    }

    /// <summary>Liveness: the server answers, with its model and how many embeddings it searches.</summary>
    public sealed record HealthDto(string Status, string Model, int Indexed);

    /// <summary>A new API key of the browser's own, traded for a one-time sign-in code.</summary>
    public sealed record SignInDto(string Key, string Role);

    /// <summary>The addresses Kestrel actually bound (port 0 becomes a real port).</summary>
    public static IReadOnlyList<string> BoundAddresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    // One place turns exceptions into answers: user errors (bad image, unknown identity, oversized body) are 4xx
    // with their message; anything else is logged and a 500 without internals. Every request is logged once.
    private static async Task HandleErrors(HttpContext http, RequestDelegate next, ILogger log)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await next(http);
        }
        catch (Exception e) when (!http.Response.HasStarted && Classify(e) is { } status)
        {
            http.Response.Clear();
            http.Response.StatusCode = status.Code;
            await http.Response.WriteAsJsonAsync(new ApiError(status.Message));
            if (status.Code >= 500) log.LogError(e, "unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
        }
        finally
        {
            log.LogInformation("{Method} {Path} -> {Status} in {ElapsedMs:F1} ms ({Actor})", http.Request.Method,
                http.Request.Path.Value, http.Response.StatusCode, clock.Elapsed.TotalMilliseconds, ApiKeys.Actor(http));
        }
    }

    private static (int Code, string Message)? Classify(Exception e) => e switch
    {
        OperationCanceledException => null,
        BadHttpRequestException b when b.StatusCode == 413 => (413, "request body too large: " + b.Message),
        BadHttpRequestException b => (b.StatusCode, b.Message),
        IdentityNotFoundException n => (404, n.Message),
        LastSightingException l => (409, l.Message),
        ReidException r => (400, r.Message),
        InvalidDataException d => (400, "malformed request: " + d.Message),
        IOException io when io.Message.Contains("body too large", StringComparison.OrdinalIgnoreCase) => (413, io.Message),
        _ => (500, "internal error (logged on the server)"),
    };
}
