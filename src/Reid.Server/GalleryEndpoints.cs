using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Reid.Core;
using Reid.Gallery;
using Reid.Gallery.Api;
using Reid.SpatialTemporal;

namespace Reid.Server;

/// <summary>The /api endpoints. Reads need any valid key, writes a read-write key (see <see cref="ApiKeys"/>).</summary>
internal static class GalleryEndpoints
{
    /// <summary>Search answers are a JSON array; this header says what travel times contributed, or why they did not.</summary>
    public const string SpatialTemporalHeader = "X-Reid-Spatial-Temporal";

    public static void Map(RouteGroupBuilder read, RouteGroupBuilder write, GalleryService gallery, ServerOptions options, bool video,
        SpatialTemporalModel? travelTimes)
    {
        read.MapGet("/info", (HttpContext http) => new InfoDto(gallery.Model.Id, gallery.Model.Dimension, gallery.Store.CountIdentities(),
                gallery.Index.Count, gallery.SightingsMissingEmbedding, ThresholdDto.From(gallery.ResolveThreshold()),
                ApiKeys.Role(http)?.ToString().ToLowerInvariant() ?? "none", options.MaxImageRequestBytes, options.MaxVideoRequestBytes,
                video, travelTimes is not null))
            .WithName("GetInfo").WithSummary("The model, gallery size, active threshold and this key's role");

        read.MapGet("/identities", (string? q, int? offset, int? limit) =>
                gallery.List(q, Math.Max(0, offset ?? 0), Math.Clamp(limit ?? 200, 1, 1000)).Select(IdentityDto.From).ToArray())
            .WithName("ListIdentities").WithSummary("List identities (filter by name with q)");

        read.MapGet("/identities/{id:long}", (long id) =>
            {
                var identity = gallery.Store.GetIdentity(id) ?? throw new IdentityNotFoundException(id);
                return IdentityDetailDto.From(identity, gallery.Store.GetSightings(id));
            })
            .WithName("GetIdentity").Answers<IdentityDetailDto>().Fails(404).WithSummary("One identity with its sightings");

        read.MapGet("/sightings/{id:long}/crop", (long id) =>
                gallery.Store.GetCrop(id) is { } jpeg ? Results.Bytes(jpeg, "image/jpeg") : Results.Json(new ApiError($"sighting {id} does not exist"), statusCode: 404))
            .WithName("GetCrop").Produces<byte[]>(200, "image/jpeg").Fails(404).WithSummary("The stored crop (JPEG) of a sighting");

        write.MapPost("/identities", async (HttpContext http) =>
            {
                var form = await ReadForm(http, options.MaxImageRequestBytes);
                var name = form["name"].ToString();
                var metadata = form["metadata"].ToString();
                var (camera, time) = Where(form);
                var images = (await Images(form, http.RequestAborted)).Select(i => i.SeenAt(camera, time)).ToArray();
                var result = await Task.Run(() => gallery.Enrol(name, images, string.IsNullOrWhiteSpace(metadata) ? null : metadata, ApiKeys.Actor(http)));
                return Results.Json(IdentityDetailDto.From(result), statusCode: 201);
            })
            .WithName("Enrol").Answers<IdentityDetailDto>(201)
            .Form(new("name", FieldKind.Text, "the person's name", Required: true),
                new("metadata", FieldKind.Json, "anything to keep with the identity"),
                new("camera", FieldKind.Text, "the camera that took the images"),
                new("time", FieldKind.DateTime, "when the images were taken (ISO 8601)"),
                new("images", FieldKind.Files, "one or more photos of the person (JPEG or PNG)", Required: true))
            .WithSummary("Enrol a new identity: multipart with 'name', optional 'metadata' (JSON object), optional 'camera' and 'time' (ISO 8601) of the images, and one or more 'images'")
            .DisableAntiforgery();

        write.MapPost("/identities/{id:long}/sightings", async (long id, HttpContext http) =>
            {
                var form = await ReadForm(http, options.MaxImageRequestBytes);
                var (camera, time) = Where(form);
                var images = (await Images(form, http.RequestAborted)).Select(i => i.SeenAt(camera, time)).ToArray();
                var result = await Task.Run(() => gallery.AddSightings(id, images, ApiKeys.Actor(http)));
                return IdentityDetailDto.From(result);
            })
            .WithName("AddSightings").Answers<IdentityDetailDto>().Fails(404)
            .Form(new("camera", FieldKind.Text, "the camera that took the images"),
                new("time", FieldKind.DateTime, "when the images were taken (ISO 8601)"),
                new("images", FieldKind.Files, "one or more photos of the person", Required: true))
            .WithSummary("Add images to an existing identity")
            .DisableAntiforgery();

        write.MapDelete("/identities/{id:long}", (long id, string? reason, HttpContext http) =>
                gallery.Delete(id, ApiKeys.Actor(http), reason)
                    ? Results.Json(new DeletedDto(id))
                    : Results.Json(new ApiError($"identity {id} does not exist"), statusCode: 404))
            .WithName("DeleteIdentity").Answers<DeletedDto>().Fails(404)
            .WithSummary("Erase an identity with its sightings, crops and embeddings (logged in the audit table)");

        write.MapDelete("/sightings/{id:long}", (long id, string? reason, HttpContext http) =>
                gallery.DeleteSighting(id, ApiKeys.Actor(http), reason) is { } removed
                    ? Results.Json(SightingDeletedDto.From(removed))
                    : Results.Json(new ApiError($"sighting {id} does not exist"), statusCode: 404))
            .WithName("DeleteSighting").Answers<SightingDeletedDto>().Fails(404, 409)
            .WithSummary("Erase one sighting with its crop and embeddings (logged); its identity's last sighting is refused (409): delete the identity instead");

        read.MapPost("/verify", async (HttpContext http) =>
            {
                var form = await ReadForm(http, options.MaxImageRequestBytes);
                if (!long.TryParse(form["identity"], out var id)) throw new ReidException("verify needs the claimed 'identity' (a number)");
                var threshold = OptionalDouble(form, "threshold");
                var images = await Images(form, http.RequestAborted);
                var r = await Task.Run(() => gallery.Verify(id, images, threshold));
                return VerifyDto.From(r, gallery.Store);
            })
            .WithName("Verify").Answers<VerifyDto>().Fails(404)
            .Form(new("identity", FieldKind.Integer, "the claimed identity's id", Required: true),
                new("threshold", FieldKind.Number, "decide at this score instead of the gallery's threshold"),
                new("images", FieldKind.Files, "the probe: one or more photos of one person", Required: true))
            .WithSummary("Is the probe ('images') the claimed 'identity'? Match, score and threshold")
            .DisableAntiforgery();

        read.MapPost("/identify", async (HttpContext http) =>
            {
                var form = await ReadForm(http, options.MaxImageRequestBytes);
                var enrolAs = form["enrolUnknownAs"].ToString();
                if (!string.IsNullOrWhiteSpace(enrolAs) && ApiKeys.Role(http) != KeyRole.Write)
                    return Results.Json(new ApiError("enrolling an unknown person needs a read-write key"), statusCode: 403);
                var k = OptionalInt(form, "k");
                var threshold = OptionalDouble(form, "threshold");
                var (camera, time) = Where(form);
                var where = SpatialTemporalProbe.TryCreate(travelTimes, camera, time, out var appearanceOnly);
                var images = (await Images(form, http.RequestAborted)).Select(i => i.SeenAt(camera, time)).ToArray(); // kept if the probe is enrolled
                var r = await Task.Run(() => gallery.Identify(images, k, threshold, string.IsNullOrWhiteSpace(enrolAs) ? null : enrolAs, ApiKeys.Actor(http), where));
                return Results.Json(IdentifyDto.From(r, appearanceOnly));
            })
            .WithName("Identify").Answers<IdentifyDto>().Fails(403)
            .Form(new("k", FieldKind.Integer, "how many ranked identities to return"),
                new("threshold", FieldKind.Number, "decide at this score instead of the gallery's threshold"),
                new("camera", FieldKind.Text, "the camera that saw the probe (travel times)"),
                new("time", FieldKind.DateTime, "when the probe was seen (ISO 8601; travel times)"),
                new("enrolUnknownAs", FieldKind.Text, "enrol the probe under this name when nobody matches (read-write key)"),
                new("images", FieldKind.Files, "the probe: one or more photos of one person", Required: true))
            .WithSummary("Who is the probe ('images')? Ranked identities, or unknown below the threshold; 'enrolUnknownAs' enrols an unknown probe (write key); " +
                         "'camera' and 'time' (ISO 8601) rescale scores by the server's travel-time model")
            .DisableAntiforgery();

        read.MapPost("/search", async (HttpContext http) =>
            {
                var form = await ReadForm(http, options.MaxImageRequestBytes);
                var k = OptionalInt(form, "k");
                var (camera, time) = Where(form);
                var where = SpatialTemporalProbe.TryCreate(travelTimes, camera, time, out var appearanceOnly);
                var images = await Images(form, http.RequestAborted);
                var r = await Task.Run(() => gallery.Search(images, k, where));
                if ((r.SpatialTemporal ?? appearanceOnly) is { } note) http.Response.Headers[SpatialTemporalHeader] = note;
                return r.Hits.Select(SearchHitDto.From).ToArray();
            })
            .WithSummary("The top-k (default 50) most similar stored sightings; 'camera' and 'time' (ISO 8601) rescale scores by the server's " +
                         "travel-time model (header " + SpatialTemporalHeader + " says what it contributed)")
            .WithName("Search").Answers<SearchHitDto[]>()
            .Form(new("k", FieldKind.Integer, "how many sightings to return (default 50)"),
                new("camera", FieldKind.Text, "the camera that saw the probe (travel times)"),
                new("time", FieldKind.DateTime, "when the probe was seen (ISO 8601; travel times)"),
                new("images", FieldKind.Files, "the probe: one or more photos of one person", Required: true))
            .DisableAntiforgery();

    }

    internal static async Task<IFormCollection> ReadForm(HttpContext http, long limit)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limit;
        if (http.Request.ContentLength > limit)
            throw new BadHttpRequestException($"upload of {http.Request.ContentLength} bytes exceeds the limit of {limit} bytes", 413);
        if (!http.Request.HasFormContentType)
            throw new BadHttpRequestException("expected a multipart/form-data upload (fields and 'images' files)", 415);
        try
        {
            return await http.Request.ReadFormAsync(http.RequestAborted);
        }
        // A body that does not parse as the multipart it claims to be (unterminated, no boundary, truncated part
        // headers) surfaces as InvalidDataException or IOException from the reader: the client's fault, a 400.
        catch (Exception e) when (e is InvalidDataException or IOException && !http.RequestAborted.IsCancellationRequested
                                  && !e.Message.Contains("body too large", StringComparison.OrdinalIgnoreCase))
        {
            throw new BadHttpRequestException($"malformed multipart/form-data body: {e.Message}", 400);
        }
    }

    internal static async Task<IReadOnlyList<ImageInput>> Images(IFormCollection form, CancellationToken ct)
    {
        var files = form.Files.Where(f => f.Name is "images" or "image").ToArray();
        if (files.Length == 0) throw new ReidException("no image uploaded: add one or more files in the 'images' field");
        var list = new List<ImageInput>(files.Length);
        foreach (var f in files)
        {
            var bytes = new byte[f.Length];
            await using (var s = f.OpenReadStream()) await s.ReadExactlyAsync(bytes, ct);
            list.Add(new ImageInput(string.IsNullOrEmpty(f.FileName) ? "upload" : f.FileName, bytes));
        }
        return list;
    }

    private static int? OptionalInt(IFormCollection form, string key) =>
        string.IsNullOrWhiteSpace(form[key]) ? null
        : int.TryParse(form[key], out var v) ? v : throw new ReidException($"'{key}' must be a whole number");

    /// <summary>The request's optional 'camera' and 'time' fields: stored with enrolled images, and the probe's place for travel times.</summary>
    private static (string? Camera, DateTimeOffset? Time) Where(IFormCollection form) =>
        (string.IsNullOrWhiteSpace(form["camera"]) ? null : form["camera"].ToString(), SightingSource.ParseTime(form["time"], "'time'"));

    internal static double? OptionalDouble(IFormCollection form, string key) =>
        string.IsNullOrWhiteSpace(form[key]) ? null
        : double.TryParse(form[key], System.Globalization.CultureInfo.InvariantCulture, out var v) ? v
        : throw new ReidException($"'{key}' must be a number");
}
