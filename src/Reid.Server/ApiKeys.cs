using Microsoft.AspNetCore.Http;
using Reid.Gallery;

namespace Reid.Server;

/// <summary>
/// API-key access: every /api request presents a key (header `X-Api-Key`, or `Authorization: Bearer KEY`); its
/// SHA-256 is looked up in the store. Read keys may search, verify and identify; write keys may also enrol and
/// delete. The first key (write) is created by `reid serve` on an empty gallery and saved to DATA/admin.key.
/// </summary>
public static class ApiKeys
{
    public const string Header = "X-Api-Key";
    public const string AdminKeyFile = "admin.key";
    internal const string RoleItem = "reid.role", KeyIdItem = "reid.key";

    public static string? Presented(HttpRequest request)
    {
        if (request.Headers.TryGetValue(Header, out var k) && !string.IsNullOrEmpty(k)) return k.ToString();
        var auth = request.Headers.Authorization.ToString();
        return auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : null;
    }

    /// <summary>
    /// An endpoint filter that refuses the request unless the key has at least <paramref name="needed"/>; requests
    /// without a valid key count against their client address in <paramref name="failures"/>, and once it is spent they
    /// get 429 (a valid key still passes).
    /// </summary>
    public static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> Require(IGalleryStore store, KeyRole needed,
        FailedAuthLimiter failures) =>
        async (ctx, next) =>
        {
            var http = ctx.HttpContext;
            var presented = Presented(http.Request);
            var key = presented is null ? null : store.FindApiKey(presented);
            if (key is null && !failures.TryCount(http.Connection.RemoteIpAddress?.ToString() ?? "unknown"))
            {
                http.Response.Headers.RetryAfter = "60";
                return Results.Json(new ApiError("too many requests without a valid API key from this address: wait a minute"), statusCode: 429);
            }
            if (presented is null)
                return Results.Json(new ApiError("missing API key: send it in the X-Api-Key header"), statusCode: 401);
            if (key is not { } found)
                return Results.Json(new ApiError("invalid or revoked API key"), statusCode: 401);
            if (needed == KeyRole.Write && found.Role != KeyRole.Write)
                return Results.Json(new ApiError("this API key is read-only; the request needs a read-write key"), statusCode: 403);
            http.Items[RoleItem] = found.Role;
            http.Items[KeyIdItem] = found.Id;
            return await next(ctx);
        };

    /// <summary>Who did it, for the audit log: the key's id, never the secret.</summary>
    public static string Actor(HttpContext http) => http.Items.TryGetValue(KeyIdItem, out var id) ? $"api-key:{id}" : "api";

    public static KeyRole? Role(HttpContext http) => http.Items.TryGetValue(RoleItem, out var r) ? (KeyRole)r! : null;

    /// <summary>
    /// On a gallery without keys, and on a node of a shared PostgreSQL gallery whose data directory holds no valid key:
    /// creates a read-write key, saves it to DATA/admin.key (owner-only permissions) and returns it, so the operator
    /// can start using the API; later starts return null.
    /// </summary>
    public static string? EnsureAdminKey(IGalleryStore store)
    {
        var path = Path.Combine(store.DataDirectory, AdminKeyFile);
        string label;
        if (store.ListApiKeys().Count == 0) label = "admin (created by reid serve)";
        // A further node of a shared (PostgreSQL) gallery finds keys made elsewhere and none in its own data directory:
        // it gets a key of its own, so that whoever starts it can use it without fetching a secret from another machine.
        else if (store is PostgresGalleryStore && !HoldsValidKey(store, path))
            label = $"admin of node {Environment.MachineName} ({Path.GetFullPath(store.DataDirectory)}), created by reid serve";
        else return null;
        var secret = store.CreateApiKey(label, KeyRole.Write, "reid serve");
        File.WriteAllText(path, secret + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return secret;
    }

    private static bool HoldsValidKey(IGalleryStore store, string path)
    {
        try { return File.Exists(path) && store.FindApiKey(File.ReadAllText(path).Trim()) is not null; }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}

public sealed record ApiError(string Error);

/// <summary>
/// Requests without a valid key, counted per client address in a token bucket that refills continuously to
/// <c>perMinute</c> over a minute. Buckets refill lazily when asked (no timer per address, so a flood from many
/// addresses costs memory only, and that is bounded).
/// </summary>
public sealed class FailedAuthLimiter(int perMinute)
{
    private sealed class Bucket(double tokens, long stamp)
    {
        public double Tokens = tokens;
        public long Stamp = stamp;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Bucket> _buckets = new();
    private readonly double _capacity = Math.Max(1, perMinute);

    /// <summary>Counts one failure for <paramref name="address"/>; false once the address has used up its allowance.</summary>
    public bool TryCount(string address)
    {
        if (_buckets.Count > 100_000) _buckets.Clear();
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        var bucket = _buckets.GetOrAdd(address, _ => new Bucket(_capacity, now));
        lock (bucket)
        {
            var minutes = (now - bucket.Stamp) / (double)System.Diagnostics.Stopwatch.Frequency / 60;
            bucket.Tokens = Math.Min(_capacity, bucket.Tokens + minutes * _capacity);
            bucket.Stamp = now;
            if (bucket.Tokens < 1) return false;
            bucket.Tokens -= 1;
            return true;
        }
    }
}
