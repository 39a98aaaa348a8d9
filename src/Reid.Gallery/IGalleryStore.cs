namespace Reid.Gallery;

/// <summary>
/// The persistent gallery: identities, sightings (with crops), embeddings per model, thresholds, hashed API keys
/// and the audit log. Two implementations: <see cref="SqliteGalleryStore"/> (embedded, one data directory, the
/// default) and <see cref="PostgresGalleryStore"/> (one database shared by several nodes). Both keep the same
/// contract: every write is one transaction (an enrolment is all or nothing), erasure cascades to sightings,
/// crops and embeddings and is audit-logged, and embedding/audit ids grow in commit order so a reader can follow
/// the store incrementally (<see cref="GalleryService.Sync"/>).
/// </summary>
public interface IGalleryStore
{
    /// <summary>Where the gallery lives, for messages (a directory, or host/database without the password).</summary>
    string Location { get; }

    /// <summary>This node's directory for local files kept beside the gallery (the server's admin key and uploads).</summary>
    string DataDirectory { get; }

    int SchemaVersion { get; }

    long CreateIdentity(string name, string? metadataJson, IReadOnlyList<NewSighting> sightings, string modelId, string actor);
    void AddSightings(long identityId, IReadOnlyList<NewSighting> sightings, string modelId, string actor);
    Identity? GetIdentity(long id);
    IReadOnlyList<Identity> ListIdentities(string? nameContains = null, int offset = 0, int limit = int.MaxValue);
    int CountIdentities();
    IReadOnlyList<Sighting> GetSightings(long identityId);
    IReadOnlyList<Sighting> GetSightingsById(IReadOnlyCollection<long> ids);
    byte[]? GetCrop(long sightingId);
    bool DeleteIdentity(long id, string actor, string? reason = null);

    /// <summary>Erases one sighting with its crop and embeddings and logs it (action <c>delete-sighting</c>, with the
    /// identity's id); null when it does not exist; <see cref="LastSightingException"/> when it is its identity's last.</summary>
    RemovedSighting? DeleteSighting(long sightingId, string actor, string? reason = null);
    bool RenameIdentity(long id, string name, string? metadataJson, string actor);

    IEnumerable<StoredEmbedding> ReadEmbeddings(string modelId, long afterRowId = 0);
    IReadOnlyList<long> SightingsMissingModel(string modelId);
    int PutEmbeddings(string modelId, IReadOnlyList<(long SightingId, float[] Vector)> vectors);
    IReadOnlyDictionary<string, int> EmbeddingCounts();

    IReadOnlyList<AuditEntry> ReadAudit(long afterId = 0, string? action = null);
    void LogAudit(string actor, string action, long? identityId, string detail);

    Threshold? GetThreshold(string modelId);
    void SetThreshold(Threshold t, string actor);

    string CreateApiKey(string label, KeyRole role, string actor);
    (long Id, KeyRole Role)? FindApiKey(string secret);
    IReadOnlyList<ApiKeyRecord> ListApiKeys();
    bool RevokeApiKey(long id, string actor);

    /// <summary>The engine's own check (where it has one) plus the gallery's invariants; empty = consistent.</summary>
    IReadOnlyList<string> CheckConsistency();
}
