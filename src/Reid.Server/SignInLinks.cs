using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Reid.Server;

/// <summary>
/// One-time sign-in links, as Jupyter prints them: `reid serve` prints `http://host:port/#signin=CODE`; the page
/// trades the code once for a new read-write API key of its own (revocable with `reid gallery keys revoke`), so
/// nobody copies admin.key out of the data directory. Codes are kept hashed and expire; the code travels in the
/// URL's fragment, which browsers never send to the server, so it is in no request log.
/// </summary>
public sealed class SignInLinks(TimeSpan? lifetime = null)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _codes = new();
    private readonly TimeSpan _lifetime = lifetime ?? TimeSpan.FromHours(1);

    public TimeSpan Lifetime => _lifetime;

    public string Issue()
    {
        var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        _codes[Hash(code)] = DateTimeOffset.UtcNow + _lifetime;
        return code;
    }

    /// <summary>True once for a code that was issued and has not expired; every later call with it is false.</summary>
    public bool Redeem(string? code) =>
        !string.IsNullOrWhiteSpace(code) && _codes.TryRemove(Hash(code.Trim()), out var expires) && expires > DateTimeOffset.UtcNow;

    private static string Hash(string code) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(code)));
}
