using System.Globalization;
using System.Text.RegularExpressions;
using Reid.Core;
using Reid.Video;
using Reid.Video.CrossCamera;
using Reid.Video.Streams;
using Reid.Video.Tracking;

namespace Reid.Gallery.Video;

public sealed record OnlineAssociatorOptions
{
    /// <summary>Largest cosine distance between two tracks of different cameras at which they are taken for one person.</summary>
    public double LinkDistance { get; init; } = new CrossCameraConfig().MaxTrackDistance;
    /// <summary>Tracks of other cameras are linked to only while they ended at most this long before (seconds).</summary>
    public double RecentSeconds { get; init; } = 600;
    /// <summary>At most this many usable crops, spread over the track, are stored per report of a track.</summary>
    public int CropsPerReport { get; init; } = 4;
    /// <summary>A gallery match needs this cosine score; null: the gallery's threshold (<see cref="GalleryService.ResolveThreshold"/>).</summary>
    public double? Threshold { get; init; }
    /// <summary>New people are named this prefix + the next free number (person-0007); identities so named are the
    /// anonymous ones the watcher made, every other identity counts as enrolled.</summary>
    public string NamePrefix { get; init; } = "person-";
    public string Actor { get; init; } = "watch";

    public void Validate()
    {
        if (LinkDistance is < 0 or > 2 || double.IsNaN(LinkDistance)) throw new ReidException($"the link distance is a cosine distance in [0, 2], not {LinkDistance}");
        if (!(RecentSeconds >= 0)) throw new ReidException($"the recent-track window must be ≥ 0 s, not {RecentSeconds}");
        if (CropsPerReport < 1) throw new ReidException($"at least one crop per report must be stored, not {CropsPerReport}");
    }
}

/// <summary>What the associator made of a track the first time it was reported.</summary>
public static class AssociationKinds
{
    /// <summary>Nobody known: a new global identity was created.</summary>
    public const string NewIdentity = "new_identity";
    /// <summary>The person the watcher already follows, seen before on another camera.</summary>
    public const string Link = "link";
    /// <summary>An enrolled person (an identity the watcher did not create).</summary>
    public const string KnownSighting = "known_sighting";
    /// <summary>A person the watcher made before, seen again on the same camera (or only before a restart).</summary>
    public const string Sighting = "sighting";
}

/// <summary>
/// One decision of the <see cref="OnlineAssociator"/>: the track (camera, tracker id, wall-clock span), the global
/// identity it went to, how (<see cref="AssociationKinds"/>), the cosine score that decided it (null for a new identity),
/// for a link the other camera's track it was linked through, and how many sightings were stored.
/// </summary>
/// <see cref="FrameAt"/>: wall-clock time of the frame whose processing produced the report (frame-to-event latency).
public sealed record AssociationEvent(string Kind, string Camera, int Track, long IdentityId, string Name, double? Score,
    DateTimeOffset Start, DateTimeOffset End, string? LinkedCamera, int? LinkedTrack, int SightingsStored, bool Final,
    DateTimeOffset? FrameAt = null);

/// <summary>
/// Global identities for tracks as they arrive from several cameras (thread-safe; decided one at a time, in
/// arrival order). A track's first report goes to (a) the best gallery identity scoring at least the gallery's
/// threshold, else (b) the identity of the most alike recent track of another camera within
/// <see cref="OnlineAssociatorOptions.LinkDistance"/> (and not ruled out by travel times when a model is given),
/// else (c) a new identity named after the highest one stored, so a restart continues the numbering. An identity
/// one of whose tracks on the same camera overlaps the new track in time is never chosen: one person is not twice
/// in one view. Later reports of a track (interim → final) add their newer crops to the same identity and
/// decide nothing again. Every report stores its best usable crops as sightings (camera, wall-clock time, track,
/// frame, box; the gallery embeds them). Tracks and gallery must share the ReID model.
/// <para>
/// The recent tracks and the one-decision-at-a-time lock are an <see cref="ITrackLedger"/>: in memory for one
/// process, in PostgreSQL for several workers on one gallery, which then decide as one associator would (a
/// person two workers see is one identity, and the numbering is read from the gallery under the lock).
/// </para>
/// </summary>
public sealed class OnlineAssociator
{
    private readonly GalleryService _gallery;
    private readonly OnlineAssociatorOptions _options;
    private readonly Func<TrackSighting, TrackSighting, bool>? _canBeSame;
    private readonly ITrackLedger _ledger;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Camera, int Track), Followed> _open = [];
    private readonly Regex _anonymous;
    private int _next;
    private double _latestEnd = double.NegativeInfinity;

    /// <summary>Names this associator's tracks in the ledger: tracker ids restart with every run of a camera.</summary>
    public string Run { get; } = Guid.NewGuid().ToString("N")[..12];

    /// <param name="canBeSame">A travel-time veto (<see cref="SpatialTemporalGate.CanBeSame"/>) on times in Unix seconds.</param>
    /// <param name="ledger">Shared with the other associators of the gallery (default: this process only).</param>
    public OnlineAssociator(GalleryService gallery, OnlineAssociatorOptions? options = null, Func<TrackSighting, TrackSighting, bool>? canBeSame = null,
        ITrackLedger? ledger = null)
    {
        _options = options ?? new OnlineAssociatorOptions();
        _options.Validate();
        (_gallery, _canBeSame, _ledger) = (gallery, canBeSame, ledger ?? new LocalTrackLedger());
        _anonymous = new Regex("^" + Regex.Escape(_options.NamePrefix) + "[0-9]{1,9}$");
        _next = CameraNetwork.NextNumber(gallery, _options.NamePrefix);
    }

    /// <summary>The number the next new identity gets.</summary>
    public int NextNumber { get { lock (_gate) return _next; } }

    /// <summary>
    /// Decides and stores one report. Returns the decision for a track's first report with a usable crop; null for a
    /// later report of a track already decided, or a track without a usable crop so far (nothing is stored).
    /// </summary>
    public AssociationEvent? Handle(LiveTrack report)
    {
        var t = report.Track;
        if (t.Embedding.Length != _gallery.Model.Dimension)
            throw new ReidException($"camera {report.Camera}: the tracks have {t.Embedding.Length}-d embeddings, the gallery's model {_gallery.Model.Id} {_gallery.Model.Dimension}-d: use the same ReID model");
        lock (_gate)
        {
            double start = Seconds(report.Start), end = Seconds(report.End);
            _latestEnd = Math.Max(_latestEnd, end);

            var key = (report.Camera, t.Id);
            if (_open.TryGetValue(key, out var followed))
            {
                var newer = Choose(t.Crops.Where(c => c.Usable && c.Observation.Frame > followed.LastStoredFrame).ToList());
                if (newer.Count > 0)
                {
                    _gallery.AddSightingCrops(followed.IdentityId, Inputs(report, newer), _options.Actor);
                    followed.LastStoredFrame = newer[^1].Observation.Frame;
                }
                followed.Update(start, end, t);
                _ledger.Put(followed.Entry(Run));
                if (report.Final) _open.Remove(key);
                return null;
            }

            var crops = Choose(t.Crops.Where(c => c.Usable).ToList());
            if (crops.Count == 0) return null;
            var me = new TrackSighting(report.Camera, t.Id, start, end, t);

            using var deciding = _ledger.Decide();
            var recent = _ledger.Recent(_latestEnd - _options.RecentSeconds);
            string kind;
            long id;
            string name;
            double? score = null;
            LedgerTrack? via = null;
            int stored;
            if (GalleryMatch(me, recent) is { } hit)
            {
                (id, name, score) = (hit.IdentityId, hit.Name, hit.Score);
                via = recent.Where(r => r.IdentityId == id && r.Camera != report.Camera).MaxBy(r => r.End);
                kind = !_anonymous.IsMatch(name) ? AssociationKinds.KnownSighting : via is not null ? AssociationKinds.Link : AssociationKinds.Sighting;
                stored = Store(id, report, crops);
            }
            else if (TrackMatch(me, recent) is { } link)
            {
                (via, score, id, name, kind) = (link.Track, 1 - link.Distance, link.Track.IdentityId, link.Track.Name, AssociationKinds.Link);
                if (!_anonymous.IsMatch(name)) kind = AssociationKinds.KnownSighting;
                stored = Store(id, report, crops);
            }
            else
            {
                // Another worker may have named people since: the gallery, read under the lock, has the last word.
                if (_ledger.Shared) _next = Math.Max(_next, CameraNetwork.NextNumber(_gallery, _options.NamePrefix));
                name = _options.NamePrefix + _next.ToString("D4", CultureInfo.InvariantCulture);
                var r = _gallery.EnrolCrops(name, Inputs(report, crops), """{"source":"reid watch"}""", _options.Actor);
                _next++;
                (id, kind, stored) = (r.Identity.Id, AssociationKinds.NewIdentity, crops.Count);
            }

            var mine = new Followed(report.Camera, t.Id, id, name, start, end, t, crops[^1].Observation.Frame);
            _ledger.Put(mine.Entry(Run));
            if (!report.Final) _open[key] = mine;
            return new AssociationEvent(kind, report.Camera, t.Id, id, name, score, report.Start, report.End,
                via?.Camera, via?.Track, stored, report.Final, report.Reported);
        }
    }

    private static double Seconds(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 1000.0;

    private (long IdentityId, string Name, double Score)? GalleryMatch(TrackSighting me, IReadOnlyList<LedgerTrack> recent)
    {
        _gallery.Sync();
        var threshold = _gallery.ResolveThreshold(_options.Threshold).Score;
        foreach (var h in _gallery.Index.RankIdentities(me.Track.Embedding, 10))
        {
            if (h.Best < threshold) break;
            if (!Compatible(h.IdentityId, me, recent)) continue;
            if (_gallery.Store.GetIdentity(h.IdentityId) is { } identity) return (identity.Id, identity.Name, h.Best);
        }
        return null;
    }

    private (LedgerTrack Track, double Distance)? TrackMatch(TrackSighting me, IReadOnlyList<LedgerTrack> recent)
    {
        (LedgerTrack Track, double Distance)? best = null;
        foreach (var r in recent)
        {
            if (r.Camera == me.Camera) continue;
            var d = Embeddings.CosineDistance(me.Track.Embedding, r.Embedding);
            if (d > _options.LinkDistance || (best is { } b && d >= b.Distance)) continue;
            if (Compatible(r.IdentityId, me, recent)) best = (r, d);
        }
        return best;
    }

    /// <summary>Can <paramref name="me"/> be the person of <paramref name="identityId"/>, given that person's recent tracks?</summary>
    private bool Compatible(long identityId, TrackSighting me, IReadOnlyList<LedgerTrack> recent)
    {
        foreach (var r in recent)
        {
            if (r.IdentityId != identityId) continue;
            if (r.Camera == me.Camera && r.Start <= me.EndTime && me.StartTime <= r.End) return false;
            if (_canBeSame is not null && !_canBeSame(AsSighting(r), me)) return false;
        }
        return true;
    }

    /// <summary>A ledger track as the travel-time veto reads it (camera and times; it reads no observations).</summary>
    private static TrackSighting AsSighting(LedgerTrack r) =>
        new(r.Camera, r.Track, r.Start, r.End, new PersonTrack(r.Track, r.Camera, [], [], r.Embedding, 1));

    private int Store(long identityId, LiveTrack report, IReadOnlyList<TrackCrop> crops)
    {
        _gallery.AddSightingCrops(identityId, Inputs(report, crops), _options.Actor);
        return crops.Count;
    }

    /// <summary>At most <see cref="OnlineAssociatorOptions.CropsPerReport"/> crops, evenly spread over the track (in frame order).</summary>
    private List<TrackCrop> Choose(List<TrackCrop> usable)
    {
        int n = _options.CropsPerReport;
        if (usable.Count <= n) return usable;
        return Enumerable.Range(0, n).Select(i => usable[(int)((long)i * (usable.Count - 1) / Math.Max(1, n - 1))]).Distinct().ToList();
    }

    private static IReadOnlyList<CropInput> Inputs(LiveTrack report, IReadOnlyList<TrackCrop> crops) =>
        VideoCrops.Of(crops, $"{report.Camera} track {report.Track.Id}", report.Camera, report.At);

    /// <summary>A track this associator decided and still follows: its identity, latest span and embedding.</summary>
    private sealed class Followed(string camera, int track, long identityId, string name, double start, double end, PersonTrack last, long lastStoredFrame)
    {
        public long IdentityId { get; } = identityId;
        public long LastStoredFrame { get; set; } = lastStoredFrame;
        private double _start = start, _end = end;
        private float[] _embedding = last.Embedding;

        public void Update(double start, double end, PersonTrack t) => (_start, _end, _embedding) = (start, end, t.Embedding);

        public LedgerTrack Entry(string run) => new(run, camera, track, IdentityId, name, _start, _end, _embedding);
    }
}
