using Reid.Core;

namespace Reid.Gallery;

/// <summary>
/// Removing this sighting would leave its identity with none (HTTP 409): an identity without a sighting can never be
/// found again, yet would keep the name, so the whole identity is erased instead, on purpose.
/// </summary>
public sealed class LastSightingException(long sightingId, long identityId)
    : ReidException($"sighting {sightingId} is the last one of identity {identityId}: an identity needs at least one sighting; delete the identity instead")
{
    public long SightingId { get; } = sightingId;
    public long IdentityId { get; } = identityId;
}
