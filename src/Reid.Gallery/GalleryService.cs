using Reid.Core;
using Reid.Imaging;

namespace Reid.Gallery;

/// <summary>Settings of a gallery service; loaded from JSON/YAML or given on the command line.</summary>
/// <param name="UncalibratedThreshold">cosine score used when no calibrated threshold is stored for the model
/// (`reid gallery calibrate` stores one); answers say which one was used</param>
/// <param name="CropMaxHeight">stored crops are scaled down to at most this height (2x the 256-px model input:
/// enough to re-embed with a later, larger model)</param>
public sealed record GalleryOptions(
    double UncalibratedThreshold = 0.5,
    int CropMaxHeight = 512,
    int CropJpegQuality = 92,
    int MaxImagesPerRequest = 64,
    int DefaultSearchK = 50,
    int DefaultIdentifyK = 5,
    int EmbedBatch = 32,
    SearchIndexOptions? Index = null,
    ImageDecodeOptions? Decode = null);

/// <summary>A named image to enrol or probe with (the bytes of an upload or a file), and where it came from.</summary>
public sealed record ImageInput(string Name, byte[] Bytes, SightingSource? Origin = null);

/// <summary>A crop already decoded (e.g. from a video track) with where it came from.</summary>
public sealed record CropInput(RgbImage Crop, SightingSource Origin);

public sealed record EnrolResult(Identity Identity, IReadOnlyList<Sighting> Sightings);

/// <summary>The threshold an answer was decided with, and where it came from.</summary>
public sealed record ThresholdUsed(double Score, string Source, double? Far);

public sealed record VerifyResult(Identity Identity, bool Match, float Score, float MeanScore, ThresholdUsed Threshold, string ModelId);

public sealed record IdentityMatch(long Identity, string Name, float Score, float MeanScore, int Sightings, long BestSightingId, bool AboveThreshold);

public sealed record IdentifyResult(bool Unknown, IReadOnlyList<IdentityMatch> Matches, ThresholdUsed Threshold, string ModelId, Identity? Enrolled);

public sealed record SightingMatch(long SightingId, long Identity, string Name, float Score, Sighting Sighting);

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

    // ---- questions ---------------------------------------------------------------------------------------

    /// <summary>Is the probe (one or more images of one person) the claimed identity?</summary>
    public VerifyResult Verify(long identityId, IReadOnlyList<ImageInput> probe, double? thresholdOverride = null) =>
        VerifyCrops(identityId, DecodeAll(probe).Select(c => c.Crop).ToArray(), thresholdOverride);

    public VerifyResult VerifyCrops(long identityId, IReadOnlyList<RgbImage> probe, double? thresholdOverride = null)
    {
        var identity = Store.GetIdentity(identityId) ?? throw new IdentityNotFoundException(identityId);
        var q = ProbeVector(probe);
        Sync();
        var hit = Index.ScoreIdentity(q, identityId)
                  ?? throw new ReidException($"identity {identityId} has no embedding for model {Model.Id}: run `reid gallery reembed`");
        var t = ResolveThreshold(thresholdOverride);
        return new VerifyResult(identity, hit.Best >= t.Score, hit.Best, hit.Mean, t, Model.Id);
    }

    /// <summary>Who is this? Ranked identities (by best sighting score), "unknown" when none reaches the threshold;
    /// optionally enrols an unknown probe as a new identity.</summary>
    public IdentifyResult Identify(IReadOnlyList<ImageInput> probe, int? k = null, double? thresholdOverride = null,
        string? enrolUnknownAs = null, string actor = "cli")
    {
        var crops = DecodeAll(probe);
        return IdentifyCrops(crops, k, thresholdOverride, enrolUnknownAs, actor);
    }

    public IdentifyResult IdentifyCrops(IReadOnlyList<CropInput> crops, int? k = null, double? thresholdOverride = null,
        string? enrolUnknownAs = null, string actor = "cli")
    {
        var q = ProbeVector(crops.Select(c => c.Crop).ToArray());
        Sync();
        var t = ResolveThreshold(thresholdOverride);
        var hits = Index.RankIdentities(q, Math.Clamp(k ?? Options.DefaultIdentifyK, 1, 1000));
        var best = BestSightings(q, hits.Select(h => h.IdentityId).ToHashSet());
        var names = Names(hits.Select(h => h.IdentityId));
        var matches = hits.Where(h => names.ContainsKey(h.IdentityId))
            .Select(h => new IdentityMatch(h.IdentityId, names[h.IdentityId], h.Best, h.Mean, h.Sightings,
                best.GetValueOrDefault(h.IdentityId), h.Best >= t.Score)).ToArray();
        var unknown = matches.Length == 0 || !matches[0].AboveThreshold;
        Identity? enrolled = null;
        if (unknown && !string.IsNullOrWhiteSpace(enrolUnknownAs))
            enrolled = EnrolCrops(enrolUnknownAs, crops, null, actor).Identity;
        return new IdentifyResult(unknown, matches, t, Model.Id, enrolled);
    }

    /// <summary>The k stored sightings most similar to the probe, best first.</summary>
    public IReadOnlyList<SightingMatch> Search(IReadOnlyList<ImageInput> probe, int? k = null)
    {
        var q = ProbeVector(DecodeAll(probe).Select(c => c.Crop).ToArray());
        Sync();
        var hits = Index.TopSightings(q, Math.Clamp(k ?? Options.DefaultSearchK, 1, 10_000));
        var sightings = Store.GetSightingsById(hits.Select(h => h.SightingId).ToArray()).ToDictionary(s => s.Id);
        var names = Names(hits.Select(h => h.IdentityId));
        return hits.Where(h => sightings.ContainsKey(h.SightingId) && names.ContainsKey(h.IdentityId))
            .Select(h => new SightingMatch(h.SightingId, h.IdentityId, names[h.IdentityId], h.Score, sightings[h.SightingId]))
            .ToArray();
    }

    public IReadOnlyList<Identity> List(string? nameContains = null, int offset = 0, int limit = 1000) =>
        Store.ListIdentities(nameContains, offset, limit);

    public bool Delete(long identityId, string actor = "cli", string? reason = null)
    {
        var deleted = Store.DeleteIdentity(identityId, actor, reason);
        Sync();
        return deleted;
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

    /// <summary>The threshold for the active model: an override, else the calibrated one, else the uncalibrated default.</summary>
    public ThresholdUsed ResolveThreshold(double? overrideScore = null)
    {
        if (overrideScore is { } o)
        {
            if (!double.IsFinite(o) || o < -1 || o > 1) throw new ReidException($"threshold {o} is not a cosine score in [-1, 1]");
            return new ThresholdUsed(o, "override", null);
        }
        if (Store.GetThreshold(Model.Id) is { } t) return new ThresholdUsed(t.Score, t.Source, t.Far);
        return new ThresholdUsed(Options.UncalibratedThreshold, "uncalibrated default (run `reid gallery calibrate`)", null);
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private IReadOnlyList<CropInput> DecodeAll(IReadOnlyList<ImageInput> images)
    {
        if (images.Count == 0) throw new ReidException("no image given");
        if (images.Count > Options.MaxImagesPerRequest)
            throw new ReidException($"{images.Count} images in one request; at most {Options.MaxImagesPerRequest}");
        return images.Select(i => new CropInput(ImageCodec.Decode(i.Bytes, i.Name, Options.Decode),
            i.Origin ?? new SightingSource(Source: SafeName(i.Name)))).ToArray();
    }

    private List<NewSighting> Prepare(IReadOnlyList<CropInput> crops)
    {
        if (crops.Count == 0) throw new ReidException("no crop to enrol");
        var stored = crops.Select(c => Shrink(c.Crop)).ToArray();
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
