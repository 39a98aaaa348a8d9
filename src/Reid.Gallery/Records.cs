using Reid.Imaging;

namespace Reid.Gallery;

/// <summary>A person in the gallery. Metadata is free JSON the operator attaches (badge number, notes).</summary>
public sealed record Identity(long Id, string Name, DateTimeOffset Created, string MetadataJson, int SightingCount, long? FirstSightingId);

/// <summary>Where a sighting came from: a camera, a time, and optionally a video frame and box (source-image pixels) in it.</summary>
public sealed record SightingSource(
    string? Camera = null,
    DateTimeOffset? CapturedAt = null,
    string? Source = null,
    long? Frame = null,
    double? SourceTime = null,
    BoundingBox? Box = null)
{
    /// <summary>A capture time as operators and clients write it (ISO 8601; without a zone it is UTC), or null
    /// when blank; <paramref name="field"/> names the option or form field in the error.</summary>
    public static DateTimeOffset? ParseTime(string? text, string field) =>
        string.IsNullOrWhiteSpace(text) ? null
        : DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t
        : throw new Reid.Core.ReidException($"{field} '{text}' is not a date and time (ISO 8601, e.g. 2026-11-21T19:30:00Z)");
}

/// <summary>A sighting erased on its own: which identity it belonged to and how many sightings that identity has left.</summary>
public sealed record RemovedSighting(long SightingId, long IdentityId, int SightingsLeft);

/// <summary>One stored sighting of an identity (without its crop bytes and embedding).</summary>
public sealed record Sighting(long Id, long IdentityId, SightingSource Origin, int CropWidth, int CropHeight, DateTimeOffset Created);

/// <summary>A sighting about to be stored: its crop (JPEG), where it came from, and its embedding under one model.</summary>
public sealed record NewSighting(byte[] CropJpeg, int CropWidth, int CropHeight, SightingSource Origin, float[] Embedding);

/// <summary>An embedding as stored: which sighting and identity it belongs to. RowId orders insertions.</summary>
public sealed record StoredEmbedding(long RowId, long SightingId, long IdentityId, float[] Vector);

/// <summary>One line of the audit log (deletions, key changes, re-embedding).</summary>
public sealed record AuditEntry(long Id, DateTimeOffset At, string Actor, string Action, long? IdentityId, string Detail);

/// <summary>A decision threshold for one model: the score at a false-accept rate, from an evaluation or set by hand.</summary>
public sealed record Threshold(string ModelId, double Score, double? Far, string Source, DateTimeOffset Created);

/// <summary>Access level of an API key: read (search, verify, identify) or write (also enrol and delete).</summary>
public enum KeyRole { Read, Write }

/// <summary>A stored API key: only its SHA-256 hash is kept.</summary>
public sealed record ApiKeyRecord(long Id, string Label, KeyRole Role, DateTimeOffset Created, bool Revoked);
