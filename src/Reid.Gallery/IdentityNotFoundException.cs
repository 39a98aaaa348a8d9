using Reid.Core;

namespace Reid.Gallery;

/// <summary>A request named an identity the gallery does not hold (HTTP 404).</summary>
public sealed class IdentityNotFoundException(long id) : ReidException($"identity {id} does not exist")
{
    public long IdentityId { get; } = id;
}
