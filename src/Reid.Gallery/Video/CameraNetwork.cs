using System.Globalization;
using System.Text.RegularExpressions;
using Reid.Core;
using Reid.Imaging;
using Reid.Video;
using Reid.Video.CrossCamera;
using Reid.Video.Tracking;

namespace Reid.Gallery.Video;

/// <summary>The tracks one camera's video gave.</summary>
public sealed record CameraRun(CameraVideo Video, IReadOnlyList<PersonTrack> Tracks);

/// <summary>
/// A person after a multi-camera run: the gallery identity, whether it was created by this run, the cosine
/// similarity of its tracks' mean embedding to the gallery identity it matched (null when new), its tracks,
/// and how many sightings (crops) were stored.
/// </summary>
public sealed record NetworkIdentity(long IdentityId, string Name, bool IsNew, double? Score, IReadOnlyList<TrackSighting> Tracks, int StoredSightings);

public sealed record CameraNetworkOptions
{
    public CrossCameraConfig Matching { get; init; } = new();
    /// <summary>New people are named this prefix + the next free number (person-0007).</summary>
    public string NamePrefix { get; init; } = "person-";
    /// <summary>Who the gallery's audit log names for the writes.</summary>
    public string Actor { get; init; } = "cli";
}

/// <summary>
/// Global identities for the tracks of several cameras: matches them to the gallery's identities and to each
/// other (<see cref="CrossCameraMatcher"/>, optionally with a spatial-temporal veto), creates an identity for
/// every person the gallery did not know and stores every track's crops as sightings (camera, wall-clock time,
/// source video, frame, box; the gallery embeds each crop with its model). Tracks and the gallery must come
/// from the same ReID model: use the gallery's <see cref="EmbeddingModel.Onnx"/> as the extractor's embedder.
/// </summary>
public static class CameraNetwork
{
    public static IReadOnlyList<NetworkIdentity> Identify(IReadOnlyList<CameraRun> runs, GalleryService gallery,
        CameraNetworkOptions? options = null, Func<TrackSighting, TrackSighting, bool>? canBeSame = null)
    {
        options ??= new CameraNetworkOptions();
        var withTracks = runs.Where(r => r.Tracks.Count > 0).ToList();
        if (withTracks.Count == 0) return [];
        int dim = withTracks[0].Tracks[0].Embedding.Length;
        if (dim != gallery.Model.Dimension)
            throw new ReidException($"the tracks have {dim}-d embeddings, the gallery's model {gallery.Model.Id} {gallery.Model.Dimension}-d: use the same ReID model");

        var known = KnownIdentities(gallery);
        var cameras = withTracks.Select(r => new CameraTracks(r.Video.Camera, r.Video.StartSeconds, r.Tracks)).ToList();
        var global = CrossCameraMatcher.Associate(cameras, options.Matching, known, canBeSame);

        // Which run each track came from (two videos of one camera are told apart by their tracks).
        var runOf = new Dictionary<PersonTrack, CameraRun>(ReferenceEqualityComparer.Instance);
        foreach (var r in withTracks) foreach (var t in r.Tracks) runOf[t] = r;
        int next = NextNumber(gallery, options.NamePrefix);
        var result = new List<NetworkIdentity>();
        foreach (var g in global)
        {
            // A track whose every crop is flawed adds nothing worth storing; a person none of whose tracks has a
            // usable crop is not stored at all rather than stored as border or occluder pixels.
            var crops = g.Sightings.Where(s => VideoCrops.HasUsableCrop(s.Track)).SelectMany(s => VideoCrops.From(s.Track, runOf[s.Track].Video)).ToList();
            if (crops.Count == 0) continue;
            if (g.Name is null)
            {
                var name = options.NamePrefix + (next++).ToString("D4", CultureInfo.InvariantCulture);
                var r = gallery.EnrolCrops(name, crops, """{"source":"reid cameras"}""", options.Actor);
                result.Add(new NetworkIdentity(r.Identity.Id, r.Identity.Name, true, null, g.Sightings, crops.Count));
            }
            else
            {
                long id = long.Parse(g.Name, CultureInfo.InvariantCulture);
                EnrolResult? r = null;
                // AddSightings takes encoded images, at most MaxImagesPerRequest at a time.
                foreach (var chunk in crops.Chunk(gallery.Options.MaxImagesPerRequest))
                    r = gallery.AddSightings(id, chunk.Select((c, i) => new ImageInput(
                        $"{c.Origin.Source}#{c.Origin.Frame}.{i}", ImageCodec.EncodeJpeg(c.Crop, gallery.Options.CropJpegQuality), c.Origin)).ToList(), options.Actor);
                result.Add(new NetworkIdentity(id, r!.Identity.Name, false, 1 - g.KnownDistance, g.Sightings, crops.Count));
            }
        }
        return result;
    }

    /// <summary>Each gallery identity as the mean of its stored embeddings under the gallery's model; the name is its id.</summary>
    public static IReadOnlyList<KnownIdentity> KnownIdentities(GalleryService gallery)
    {
        gallery.Sync();
        return gallery.Store.ReadEmbeddings(gallery.Model.Id)
            .GroupBy(e => e.IdentityId)
            .Select(g => new KnownIdentity(g.Key.ToString(CultureInfo.InvariantCulture), Embeddings.Mean(g.Select(e => e.Vector).ToList())))
            .ToList();
    }

    /// <summary>The number after the highest of the identities named <paramref name="prefix"/> + a number (1 when there is none).</summary>
    public static int NextNumber(GalleryService gallery, string prefix)
    {
        var pattern = new Regex("^" + Regex.Escape(prefix) + "([0-9]{1,9})$");
        int max = 0;
        const int page = 1000;
        for (int offset = 0; ; offset += page)
        {
            var identities = gallery.List(prefix, offset, page);
            foreach (var i in identities)
                if (pattern.Match(i.Name) is { Success: true } m) max = Math.Max(max, int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            if (identities.Count < page) return max + 1;
        }
    }
}
