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

    /// <summary>An endpoint filter that refuses the request unless the key has at least <paramref name="needed"/>.</summary>
    public static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> Require(IGalleryStore store, KeyRole needed) =>
        async (ctx, next) =>
        {
            var http = ctx.HttpContext;
            var presented = Presented(http.Request);
            if (presented is null)
                return Results.Json(new ApiError("missing API key: send it in the X-Api-Key header"), statusCode: 401);
            if (store.FindApiKey(presented) is not { } key)
                return Results.Json(new ApiError("invalid or revoked API key"), statusCode: 401);
            if (needed == KeyRole.Write && key.Role != KeyRole.Write)
                return Results.Json(new ApiError("this API key is read-only; the request needs a read-write key"), statusCode: 403);
            http.Items[RoleItem] = key.Role;
            http.Items[KeyIdItem] = key.Id;
            return await next(ctx);
        };

    /// <summary>Who did it, for the audit log: the key's id, never the secret.</summary>
    public static string Actor(HttpContext http) => http.Items.TryGetValue(KeyIdItem, out var id) ? $"api-key:{id}" : "api";

    public static KeyRole? Role(HttpContext http) => http.Items.TryGetValue(RoleItem, out var r) ? (KeyRole)r! : null;

    /// <summary>
    /// On a gallery without keys: creates a read-write key, saves it to DATA/admin.key (owner-only permissions) and
    /// returns it, so the operator can start using the API; later starts return null.
    /// </summary>
    public static string? EnsureAdminKey(IGalleryStore store)
    {
        if (store.ListApiKeys().Count > 0) return null;
        var secret = store.CreateApiKey("admin (created by reid serve)", KeyRole.Write, "reid serve");
        var path = Path.Combine(store.DataDirectory, AdminKeyFile);
        File.WriteAllText(path, secret + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return secret;
    }
}

public sealed record ApiError(string Error);
