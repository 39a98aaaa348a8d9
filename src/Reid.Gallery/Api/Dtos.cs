using System.Text.Json;
using Reid.Imaging;
using Reid.Video.Calibration;

namespace Reid.Gallery.Api;

// The JSON shapes of gallery answers, written with ReidJson's naming policy. They live below the server so that
// `reid serve` (HTTP) and `reid gallery … --json` (CLI) answer one question with one shape.
// Crops are referenced by URL (fetched from a running `reid serve` with the same API key).

public sealed record IdentityDto(long Id, string Name, DateTimeOffset Created, JsonElement Metadata, int Sightings, string? Thumbnail)
{
    public static IdentityDto From(Identity i) => new(i.Id, i.Name, i.Created, ParseMetadata(i.MetadataJson), i.SightingCount,
        i.FirstSightingId is { } s ? SightingDto.CropUrl(s) : null);

    private static JsonElement ParseMetadata(string json)
    {
        try { using var d = JsonDocument.Parse(json); return d.RootElement.Clone(); }
        catch (JsonException) { using var d = JsonDocument.Parse("{}"); return d.RootElement.Clone(); }
    }
}

public sealed record SightingDto(long Id, long Identity, string? Camera, DateTimeOffset? CapturedAt, string? Source, long? Frame,
    double? SourceTime, BoundingBox? Box, int Width, int Height, string Crop)
{
    public static string CropUrl(long id) => $"/api/sightings/{id}/crop";

    public static SightingDto From(Sighting s) => new(s.Id, s.IdentityId, s.Origin.Camera, s.Origin.CapturedAt, s.Origin.Source,
        s.Origin.Frame, s.Origin.SourceTime, s.Origin.Box, s.CropWidth, s.CropHeight, CropUrl(s.Id));
}

/// <summary>The answer to erasing one sighting: its id, its identity and how many sightings that identity has left.</summary>
public sealed record SightingDeletedDto(long Deleted, long Identity, int SightingsLeft)
{
    public static SightingDeletedDto From(RemovedSighting r) => new(r.SightingId, r.IdentityId, r.SightingsLeft);
}

public sealed record IdentityDetailDto(IdentityDto Identity, IReadOnlyList<SightingDto> Sightings)
{
    public static IdentityDetailDto From(Identity identity, IEnumerable<Sighting> sightings) =>
        new(IdentityDto.From(identity), sightings.Select(SightingDto.From).ToArray());

    public static IdentityDetailDto From(EnrolResult r) => From(r.Identity, r.Sightings);
}

public sealed record ThresholdDto(double Score, string Source, double? Far)
{
    public static ThresholdDto From(ThresholdUsed t) => new(t.Score, t.Source, t.Far);
}

/// <summary>A threshold calibrated on video, with the evidence it rests on (see TrackPairCalibration).</summary>
public sealed record CalibrationDto(string Model, double Threshold, double Far, double TargetFar, double FarUpperBound95, double? Tar, int Tracks,
    int PeoplePairs, int ImpostorComparisons, int GenuineComparisons)
{
    public static CalibrationDto From(string model, TrackCalibrationResult r) => new(model, r.Point.Threshold, r.Point.Far, r.Point.TargetFar,
        r.FarUpperBound, double.IsNaN(r.Point.Tar) ? null : r.Point.Tar, r.Tracks, r.PeoplePairs, r.Scores.Impostor.Length, r.Scores.Genuine.Length);
}

public sealed record VerifyDto(bool Match, float Score, float MeanScore, ThresholdDto Threshold, string Model, IdentityDto Identity,
    IReadOnlyList<SightingDto> Samples)
{
    /// <summary>Enough of the identity's sightings for a person to check the verdict by eye.</summary>
    public const int SampleCount = 12;

    public static VerifyDto From(VerifyResult r, IGalleryStore store) => new(r.Match, r.Score, r.MeanScore, ThresholdDto.From(r.Threshold),
        r.ModelId, IdentityDto.From(r.Identity), store.GetSightings(r.Identity.Id).Take(SampleCount).Select(SightingDto.From).ToArray());
}

/// <param name="AppearanceScore">with travel times: the best sighting's appearance score before rescaling</param>
public sealed record MatchDto(long Identity, string Name, float Score, float MeanScore, int Sightings, bool AboveThreshold, string? Crop,
    float? AppearanceScore = null)
{
    public static MatchDto From(IdentityMatch m) => new(m.Identity, m.Name, m.Score, m.MeanScore, m.Sightings, m.AboveThreshold,
        m.BestSightingId > 0 ? SightingDto.CropUrl(m.BestSightingId) : null, m.AppearanceScore);
}

/// <param name="SpatialTemporal">what travel times contributed, or why the answer is appearance only (null: not asked)</param>
public sealed record IdentifyDto(bool Unknown, IReadOnlyList<MatchDto> Matches, ThresholdDto Threshold, string Model, IdentityDto? Enrolled,
    string? SpatialTemporal = null)
{
    public static IdentifyDto From(IdentifyResult r, string? appearanceOnly = null) => new(r.Unknown,
        r.Matches.Select(MatchDto.From).ToArray(), ThresholdDto.From(r.Threshold), r.ModelId,
        r.Enrolled is null ? null : IdentityDto.From(r.Enrolled), r.SpatialTemporal ?? appearanceOnly);
}

/// <summary>One tracked person of a video and who it is: `reid gallery identify --video`.</summary>
public sealed record TrackIdentifyDto(int Track, long FirstFrame, long LastFrame, bool Unknown, IReadOnlyList<MatchDto> Matches);

/// <summary>Every tracked person of a video, decided with one threshold and model.</summary>
public sealed record VideoIdentifyDto(string Video, IReadOnlyList<TrackIdentifyDto> Tracks, ThresholdDto Threshold, string Model);

/// <param name="AppearanceScore">with travel times: the appearance score before rescaling</param>
public sealed record SearchHitDto(long Sighting, long Identity, string Name, float Score, SightingDto Detail, float? AppearanceScore = null)
{
    public static SearchHitDto From(SightingMatch h) => new(h.SightingId, h.Identity, h.Name, h.Score, SightingDto.From(h.Sighting), h.AppearanceScore);
}

public sealed record InfoDto(string Model, int Dimension, int Identities, int Indexed, int MissingEmbeddings, ThresholdDto Threshold,
    string Role, long MaxImageRequestBytes, long MaxVideoRequestBytes, bool Video, bool TravelTimes = false);

/// <summary>The answer to erasing an identity.</summary>
public sealed record DeletedDto(long Deleted);
