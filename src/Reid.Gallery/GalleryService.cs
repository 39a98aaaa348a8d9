using Reid.Core;
using Reid.Imaging;

namespace Reid.Gallery;

/// <summary>Settings of a gallery service; loaded from JSON/YAML or given on the command line.</summary>
/// <param name="UncalibratedThreshold">cosine score used when no calibrated threshold is stored for the model
/// (`reid gallery calibrate` stores one); answers say which one was used</param>
/// <param name="CropMaxHeight">stored crops are scaled down to at most this height (2x the 256-px model input:
/// enough to re-embed with a later, larger model)</param>
/// <param name="TravelTimeCandidates">identify with a travel-time model: at least this many best sightings by
/// appearance are rescaled</param>
public sealed record GalleryOptions(
    double UncalibratedThreshold = 0.5,
    int CropMaxHeight = 512,
    int CropJpegQuality = 92,
    int MaxImagesPerRequest = 64,
    int DefaultSearchK = 50,
    int DefaultIdentifyK = 5,
    int EmbedBatch = 32,
    int TravelTimeCandidates = 500,
    SearchIndexOptions? Index = null,
    ImageDecodeOptions? Decode = null);

/// <summary>A named image to enrol or probe with (the bytes of an upload or a file), and where it came from.</summary>
public sealed record ImageInput(string Name, byte[] Bytes, SightingSource? Origin = null)
{
    /// <summary>This image as seen by <paramref name="camera"/> at <paramref name="time"/> (both null: unchanged).</summary>
    public ImageInput SeenAt(string? camera, DateTimeOffset? time) =>
        camera is null && time is null ? this : this with { Origin = (Origin ?? new SightingSource()) with { Camera = camera, CapturedAt = time } };
}

/// <summary>A crop already decoded (e.g. from a video track) with where it came from.</summary>
public sealed record CropInput(RgbImage Crop, SightingSource Origin);

public sealed record EnrolResult(Identity Identity, IReadOnlyList<Sighting> Sightings);

/// <summary>The threshold an answer was decided with, and where it came from.</summary>
public sealed record ThresholdUsed(double Score, string Source, double? Far);

public sealed record VerifyResult(Identity Identity, bool Match, float Score, float MeanScore, ThresholdUsed Threshold, string ModelId);

/// <param name="AppearanceScore">with a travel-time model: the appearance score of the best sighting before rescaling</param>
public sealed record IdentityMatch(long Identity, string Name, float Score, float MeanScore, int Sightings, long BestSightingId, bool AboveThreshold,
    float? AppearanceScore = null);

/// <param name="SpatialTemporal">with a travel-time model: how many candidate sightings it had evidence for</param>
public sealed record IdentifyResult(bool Unknown, IReadOnlyList<IdentityMatch> Matches, ThresholdUsed Threshold, string ModelId, Identity? Enrolled,
    string? SpatialTemporal = null);

/// <param name="AppearanceScore">with a travel-time model: the appearance score before rescaling</param>
public sealed record SightingMatch(long SightingId, long Identity, string Name, float Score, Sighting Sighting, float? AppearanceScore = null);

/// <param name="SpatialTemporal">with a travel-time model: how many candidate sightings it had evidence for</param>
public sealed record SearchResult(IReadOnlyList<SightingMatch> Hits, string? SpatialTemporal);

public sealed record ReembedResult(string ModelId, int Embedded, int AlreadyDone);

/// <summary>
/// Enrol / verify / identify / search / list / delete / re-embed over an <see cref="IGalleryStore"/>, with an
/// in-memory <see cref="SearchIndex"/> of the active model's embeddings. The index follows the store: before each
/// question it picks up embeddings and deletions committed since (by this process or another node sharing the
/// store: the CLI and a server on one data directory, or several servers on one PostgreSQL database), by id
/// greater than the last one seen (both stores make ids visible in commit order). Thread-safe.
/// </summary>
public sealed class GalleryService
{
    private readonly Lock _syncGate = new();
    private long _lastEmbeddingRow;
    private long _lastAuditId;

    public IGalleryStore Store { get; }
    public EmbeddingModel Model { get; }
    public GalleryOptions Options { get; }
    public SearchIndex Index { get; }

    public GalleryService(IGalleryStore store, EmbeddingModel model, GalleryOptions? options = null)
    {
        (Store, Model, Options) = (store, model, options ?? new GalleryOptions());
        Index = new SearchIndex(model.Dimension, Options.Index);
        _lastAuditId = store.ReadAudit().LastOrDefault()?.Id ?? 0;
        Sync();
    }

    /// <summary>Sightings stored without an embedding of the active model (they are invisible until `reembed`).</summary>
    public int SightingsMissingEmbedding => Store.SightingsMissingModel(Model.Id).Count;

    /// <summary>Brings the index up to date with the store.</summary>
    public void Sync()
    {
        lock (_syncGate)
        {
            foreach (var a in Store.ReadAudit(_lastAuditId))
            {
                if (a.Action == "delete" && a.IdentityId is { } gone) Index.RemoveIdentity(gone);
                // The log names the identity, not the sighting: what the store no longer holds of it leaves the index.
                // Reconciling rather than parsing the entry's text keeps the log's detail free-form.
                else if (a.Action == SqlGalleryStore.DeleteSightingAction && a.IdentityId is { } thinned)
                {
                    var kept = Store.GetSightings(thinned).Select(s => s.Id).ToHashSet();
                    foreach (var s in Index.SightingsOf(thinned).Where(s => !kept.Contains(s))) Index.RemoveSighting(s);
                }
                _lastAuditId = a.Id;
            }
            foreach (var e in Store.ReadEmbeddings(Model.Id, _lastEmbeddingRow))
            {
                if (e.Vector.Length == Model.Dimension) Index.Add(e.SightingId, e.IdentityId, e.Vector);
                _lastEmbeddingRow = e.RowId;
            }
        }
    }

    // ---- enrol -------------------------------------------------------------------------------------------

    /// <summary>Decodes every image first (a bad one refuses the whole request), then stores the identity in one transaction.</summary>
    public EnrolResult Enrol(string name, IReadOnlyList<ImageInput> images, string? metadataJson = null, string actor = "cli") =>
        EnrolCrops(name, DecodeAll(images), metadataJson, actor);

    public EnrolResult EnrolCrops(string name, IReadOnlyList<CropInput> crops, string? metadataJson = null, string actor = "cli")
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ReidException("enrolment needs a name");
        ValidateMetadata(metadataJson);
        var sightings = Prepare(crops);
        var id = Store.CreateIdentity(name.Trim(), metadataJson, sightings, Model.Id, actor);
        Sync();
        return new EnrolResult(Store.GetIdentity(id)!, Store.GetSightings(id));
    }

    /// <summary>Adds sightings to an existing identity.</summary>
    public EnrolResult AddSightings(long identityId, IReadOnlyList<ImageInput> images, string actor = "cli")
    {
        var sightings = Prepare(DecodeAll(images));
        Store.AddSightings(identityId, sightings, Model.Id, actor);
        Sync();
        return new EnrolResult(Store.GetIdentity(identityId)!, Store.GetSightings(identityId));
    }

    /// <summary>Adds sightings already decoded (video crops with their provenance) to an existing identity.</summary>
    public EnrolResult AddSightingCrops(long identityId, IReadOnlyList<CropInput> crops, string actor = "cli")
    {
        if (crops.Count == 0) throw new ReidException("no image given");
        Store.AddSightings(identityId, Prepare(crops), Model.Id, actor);
        Sync();
        return new EnrolResult(Store.GetIdentity(identityId)!, Store.GetSightings(identityId));
    }

    // ---- questions ---------------------------------------------------------------------------------------

    /// <summary>Is the probe (one or more images of one person) the claimed identity?</summary>
    public VerifyResult Verify(long identityId, IReadOnlyList<ImageInput> probe, double? thresholdOverride = null) =>
        VerifyCrops(identityId, DecodeAll(probe), thresholdOverride);

    public VerifyResult VerifyCrops(long identityId, IReadOnlyList<CropInput> probe, double? thresholdOverride = null)
    {
        var identity = Store.GetIdentity(identityId) ?? throw new IdentityNotFoundException(identityId);
        var q = ProbeVector(probe.Select(c => c.Crop).ToArray());
        Sync();
        var hit = Index.ScoreIdentity(q, identityId)
                  ?? throw new ReidException($"identity {identityId} has no embedding for model {Model.Id}: run `reid gallery reembed`");
        var t = ResolveThreshold(thresholdOverride);
        return new VerifyResult(identity, hit.Best >= t.Score, hit.Best, hit.Mean, t, Model.Id);
    }

    /// <summary>Who is this? Ranked identities (by best sighting score), "unknown" when none reaches the threshold;
    /// optionally enrols an unknown probe as a new identity.</summary>
    public IdentifyResult Identify(IReadOnlyList<ImageInput> probe, int? k = null, double? thresholdOverride = null,
        string? enrolUnknownAs = null, string actor = "cli", SpatialTemporalProbe? where = null)
    {
        var crops = DecodeAll(probe);
        return IdentifyCrops(crops, k, thresholdOverride, enrolUnknownAs, actor, where);
    }

    /// <param name="where">the probe's camera and time with a travel-time model: scores are then the appearance
    /// scores rescaled by it (see <see cref="SpatialTemporalProbe.Rescale"/>), and the threshold applies to them</param>
    public IdentifyResult IdentifyCrops(IReadOnlyList<CropInput> crops, int? k = null, double? thresholdOverride = null,
        string? enrolUnknownAs = null, string actor = "cli", SpatialTemporalProbe? where = null)
    {
        var q = ProbeVector(crops.Select(c => c.Crop).ToArray());
        Sync();
        var t = ResolveThreshold(thresholdOverride);
        var kk = Math.Clamp(k ?? Options.DefaultIdentifyK, 1, 1000);
        string? note = null;
        IdentityMatch[] matches;
        if (where is null)
        {
            var hits = Index.RankIdentities(q, kk);
            var best = BestSightings(q, hits.Select(h => h.IdentityId).ToHashSet());
            var names = Names(hits.Select(h => h.IdentityId));
            matches = hits.Where(h => names.ContainsKey(h.IdentityId))
                .Select(h => new IdentityMatch(h.IdentityId, names[h.IdentityId], h.Best, h.Mean, h.Sightings,
                    best.GetValueOrDefault(h.IdentityId), h.Best >= t.Score)).ToArray();
        }
        else matches = RankWithTravelTimes(q, kk, t, where, out note);
        var unknown = matches.Length == 0 || !matches[0].AboveThreshold;
        Identity? enrolled = null;
        if (unknown && !string.IsNullOrWhiteSpace(enrolUnknownAs))
            enrolled = EnrolCrops(enrolUnknownAs, crops, null, actor).Identity;
        return new IdentifyResult(unknown, matches, t, Model.Id, enrolled, note);
    }

    // The rescaling needs each sighting's camera and time, so it looks at the best sightings by appearance (a
    // multiple of k, from the index) rather than at all of them: an identity far down by appearance could only
    // rise above these by a factor larger than the model gives in practice.
    private IdentityMatch[] RankWithTravelTimes(float[] q, int k, ThresholdUsed t, SpatialTemporalProbe where, out string note)
    {
        var candidates = Index.TopSightings(q, Math.Max(Options.TravelTimeCandidates, k * 50));
        var origins = Store.GetSightingsById(candidates.Select(c => c.SightingId).ToArray()).ToDictionary(s => s.Id);
        var agg = new Dictionary<long, (float Best, float Appearance, long Sighting, double Sum, int N)>();
        var learned = 0;
        foreach (var c in candidates)
        {
            if (!origins.TryGetValue(c.SightingId, out var s)) continue;
            var (factor, kind) = where.Rescale(s.Origin);
            if (kind == SpatialTemporal.EvidenceKind.Learned) learned++;
            var score = c.Score * factor;
            ref var a = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(agg, c.IdentityId, out var seen);
            a = !seen ? (score, c.Score, c.SightingId, score, 1)
                : score > a.Best ? (score, c.Score, c.SightingId, a.Sum + score, a.N + 1) : a with { Sum = a.Sum + score, N = a.N + 1 };
        }
        note = TravelTimeNote(learned, origins.Count, where);
        var top = agg.OrderByDescending(kv => kv.Value.Best).ThenBy(kv => kv.Key).Take(k).ToArray();
        var identities = new Dictionary<long, Identity>();
        foreach (var (id, _) in top)
            if (Store.GetIdentity(id) is { } i) identities[id] = i;
        return top.Where(kv => identities.ContainsKey(kv.Key))
            .Select(kv => new IdentityMatch(kv.Key, identities[kv.Key].Name, kv.Value.Best, (float)(kv.Value.Sum / kv.Value.N),
                identities[kv.Key].SightingCount, kv.Value.Sighting, kv.Value.Best >= t.Score, kv.Value.Appearance)).ToArray();
    }

    /// <summary>The k stored sightings most similar to the probe, best first.</summary>
    public IReadOnlyList<SightingMatch> Search(IReadOnlyList<ImageInput> probe, int? k = null) => Search(probe, k, where: null).Hits;

    /// <param name="where">the probe's camera and time with a travel-time model: scores are then the appearance
    /// scores rescaled by it (see <see cref="SpatialTemporalProbe.Rescale"/>), re-sorted</param>
    public SearchResult Search(IReadOnlyList<ImageInput> probe, int? k, SpatialTemporalProbe? where) =>
        SearchCrops(DecodeAll(probe), k, where);

    /// <summary>The k stored sightings most similar to a probe of crops (e.g. a video track's), best first.</summary>
    public SearchResult SearchCrops(IReadOnlyList<CropInput> crops, int? k = null, SpatialTemporalProbe? where = null)
    {
        var q = ProbeVector(crops.Select(c => c.Crop).ToArray());
        Sync();
        var kk = Math.Clamp(k ?? Options.DefaultSearchK, 1, 10_000);
        // Rescaling can lift a sighting that appearance alone ranks below k, so it looks at a larger pool (as identify does).
        var hits = Index.TopSightings(q, where is null ? kk : Math.Max(Options.TravelTimeCandidates, kk * 10));
        var sightings = Store.GetSightingsById(hits.Select(h => h.SightingId).ToArray()).ToDictionary(s => s.Id);
        var names = Names(hits.Select(h => h.IdentityId));
        var matches = hits.Where(h => sightings.ContainsKey(h.SightingId) && names.ContainsKey(h.IdentityId))
            .Select(h => new SightingMatch(h.SightingId, h.IdentityId, names[h.IdentityId], h.Score, sightings[h.SightingId]));
        if (where is null) return new SearchResult(matches.ToArray(), null);
        var learned = 0;
        var rescaled = matches.Select(m =>
        {
            var (factor, kind) = where.Rescale(m.Sighting.Origin);
            if (kind == SpatialTemporal.EvidenceKind.Learned) learned++;
            return m with { Score = m.Score * factor, AppearanceScore = m.Score };
        }).ToArray();
        var top = rescaled.OrderByDescending(m => m.Score).ThenBy(m => m.SightingId).Take(kk).ToArray();
        return new SearchResult(top, TravelTimeNote(learned, rescaled.Length, where));
    }

    private static string TravelTimeNote(int learned, int candidates, SpatialTemporalProbe where) =>
        $"travel-time model: learned evidence for {learned} of {candidates} candidate sighting(s) (camera {where.Camera}, {where.Time:u})";

    public IReadOnlyList<Identity> List(string? nameContains = null, int offset = 0, int limit = 1000) =>
        Store.ListIdentities(nameContains, offset, limit);

    public bool Delete(long identityId, string actor = "cli", string? reason = null)
    {
        var deleted = Store.DeleteIdentity(identityId, actor, reason);
        Sync();
        return deleted;
    }

    /// <summary>Erases one sighting (crop and embeddings) and drops it from the index; null when it does not exist.
    /// Its identity's last sighting is refused with <see cref="LastSightingException"/>.</summary>
    public RemovedSighting? DeleteSighting(long sightingId, string actor = "cli", string? reason = null)
    {
        var removed = Store.DeleteSighting(sightingId, actor, reason);
        Sync();
        return removed;
    }

    /// <summary>Embeds with the active model every stored crop that has no embedding of it yet.</summary>
    public ReembedResult Reembed(IProgress<(int Done, int Total)>? progress = null, CancellationToken ct = default)
    {
        var missing = Store.SightingsMissingModel(Model.Id);
        var total = Store.EmbeddingCounts().GetValueOrDefault(Model.Id);
        var done = 0;
        foreach (var batch in missing.Chunk(Options.EmbedBatch))
        {
            ct.ThrowIfCancellationRequested();
            var ids = new List<long>();
            var crops = new List<RgbImage>();
            foreach (var sid in batch)
            {
                if (Store.GetCrop(sid) is not { } jpeg) continue; // erased meanwhile
                crops.Add(ImageCodec.Decode(jpeg, $"stored crop of sighting {sid}"));
                ids.Add(sid);
            }
            var vectors = Model.Embed(crops);
            Store.PutEmbeddings(Model.Id, ids.Zip(vectors).ToList());
            done += batch.Length;
            progress?.Report((done, missing.Count));
        }
        Store.LogAudit("reembed", "reembed", null, $"model {Model.Id}: {missing.Count} sighting(s) embedded");
        Sync();
        return new ReembedResult(Model.Id, missing.Count, total);
    }

    /// <summary>The threshold for the active model: an override, else this gallery's calibrated one, else the one the model declares, else the uncalibrated default.</summary>
    public ThresholdUsed ResolveThreshold(double? overrideScore = null)
    {
        if (overrideScore is { } o)
        {
            if (!double.IsFinite(o) || o < -1 || o > 1) throw new ReidException($"threshold {o} is not a cosine score in [-1, 1]");
            return new ThresholdUsed(o, "override", null);
        }
        if (Store.GetThreshold(Model.Id) is { } t) return new ThresholdUsed(t.Score, t.Source, t.Far);
        if (Model.Onnx?.DeclaredThreshold is { } d) return new ThresholdUsed(d.Score, d.Source, d.Far);
        return new ThresholdUsed(Options.UncalibratedThreshold, "uncalibrated default (run `reid gallery calibrate`)", null);
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private IReadOnlyList<CropInput> DecodeAll(IReadOnlyList<ImageInput> images)
    {
        if (images.Count == 0) throw new ReidException("no image given");
        if (images.Count > Options.MaxImagesPerRequest)
            throw new ReidException($"{images.Count} images in one request; at most {Options.MaxImagesPerRequest}");
        return images.Select(i => new CropInput(DecodeShrunk(i),
            i.Origin is { Source: not null } o ? o : (i.Origin ?? new SightingSource()) with { Source = SafeName(i.Name) })).ToArray();
    }

    // A request may carry MaxImagesPerRequest images of up to Options.Decode.MaxPixels each (64 MP: 192 MB as RGB):
    // each is shrunk to the stored crop size as soon as it is decoded, so a request holds one full-size image at a
    // time, and the process decodes at most this many at once, whatever the number of concurrent requests.
    private static readonly SemaphoreSlim Decoders = new(Math.Max(2, Environment.ProcessorCount));

    private RgbImage DecodeShrunk(ImageInput image)
    {
        Decoders.Wait();
        try { return Shrink(ImageCodec.Decode(image.Bytes, image.Name, Options.Decode)); }
        finally { Decoders.Release(); }
    }

    private List<NewSighting> Prepare(IReadOnlyList<CropInput> crops)
    {
        if (crops.Count == 0) throw new ReidException("no crop to enrol");
        var stored = crops.Select(c => Shrink(c.Crop)).ToArray();   // uploads are already shrunk; video crops may not be
        // Embed the stored (possibly shrunk) crop, so a later re-embedding from the store sees the same pixels.
        var vectors = stored.Chunk(Options.EmbedBatch).SelectMany(b => Model.Embed(b)).ToArray();
        return crops.Select((c, i) => new NewSighting(ImageCodec.EncodeJpeg(stored[i], Options.CropJpegQuality),
            stored[i].Width, stored[i].Height, c.Origin, vectors[i])).ToList();
    }

    private RgbImage Shrink(RgbImage crop)
    {
        if (crop.Height <= Options.CropMaxHeight) return crop;
        var w = Math.Max(1, (int)Math.Round((double)crop.Width * Options.CropMaxHeight / crop.Height));
        return ImageResize.Bilinear(crop, w, Options.CropMaxHeight);
    }

    // Several probe images of one person: the mean of their embeddings, re-normalised.
    private float[] ProbeVector(IReadOnlyList<RgbImage> probe)
    {
        if (probe.Count == 0) throw new ReidException("no probe image given");
        var vectors = probe.Chunk(Options.EmbedBatch).SelectMany(b => Model.Embed(b)).ToArray();
        var mean = new float[Model.Dimension];
        foreach (var v in vectors) System.Numerics.Tensors.TensorPrimitives.Add(mean, v, mean);
        var norm = System.Numerics.Tensors.TensorPrimitives.Norm(mean);
        if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Divide(mean, norm, mean);
        return mean;
    }

    private Dictionary<long, long> BestSightings(float[] q, HashSet<long> identities)
    {
        var best = new Dictionary<long, long>();
        if (identities.Count == 0) return best;
        // The top sightings overall usually cover the top identities; fall back to no thumbnail otherwise.
        foreach (var h in Index.TopSightings(q, Math.Max(50, identities.Count * 20)))
            if (identities.Contains(h.IdentityId)) best.TryAdd(h.IdentityId, h.SightingId);
        return best;
    }

    private Dictionary<long, string> Names(IEnumerable<long> ids)
    {
        var d = new Dictionary<long, string>();
        foreach (var id in ids.Distinct())
            if (Store.GetIdentity(id) is { } i) d[id] = i.Name;
        return d;
    }

    private static void ValidateMetadata(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
                throw new ReidException("metadata must be a JSON object");
        }
        catch (System.Text.Json.JsonException e) { throw new ReidException($"metadata is not valid JSON: {e.Message}"); }
    }

    // Upload names are shown back to users and stored: keep the file name only, never a client's path.
    private static string SafeName(string name)
    {
        var n = Path.GetFileName(name.Replace('\\', '/'));
        return n.Length > 200 ? n[..200] : n;
    }
}
