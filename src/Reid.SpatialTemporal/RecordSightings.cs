using Reid.Core;
using Reid.Data;

namespace Reid.SpatialTemporal;

/// <summary>Turns data-set records into camera times: Market-style (sequence, frame) through the model's clock, else the record's timestamp.</summary>
public static class RecordSightings
{
    /// <summary>True when every record carries a Market-1501 style camera, sequence and frame.</summary>
    public static bool AreMarketStyle(IEnumerable<ImageRecord> records) =>
        records.All(r => r.Camera is not null && r.Sequence is not null && r.Frame is not null);

    public static CameraTime ToCameraTime(this SpatialTemporalModel model, ImageRecord r)
    {
        if (r.Camera is null) return new CameraTime(null, null);
        if (r.Timestamp is { } t) return new CameraTime(r.Camera, t);
        if (r.Sequence is { } s && r.Frame is { } f) return model.MarketCameraTime(r.Camera, s, f);
        return new CameraTime(r.Camera, null);
    }

    public static CameraTime[] ToCameraTimes(this SpatialTemporalModel model, IReadOnlyList<ImageRecord> records)
    {
        var result = new CameraTime[records.Count];
        for (var i = 0; i < result.Length; i++) result[i] = model.ToCameraTime(records[i]);
        return result;
    }

    /// <summary>
    /// Learns a model from labelled training records: with Market-style names the clock is learned first
    /// (see <see cref="MarketClock"/>), otherwise every record needs a camera and a timestamp. Junk and
    /// distractor crops teach nothing about anyone's travel and are left out.
    /// </summary>
    public static SpatialTemporalModel Learn(IReadOnlyList<ImageRecord> train, SpatialTemporalOptions? options = null,
                                             FusionParameters? fusion = null, MarketClockOptions? clockOptions = null)
    {
        var people = train.Where(r => !r.IsJunk && !r.IsDistractor).ToList();
        if (people.Count == 0) throw new ReidException("spatial-temporal model: the training list has no labelled people");
        var noCamera = people.Count(r => r.Camera is null);
        if (noCamera > 0) throw new ReidException($"spatial-temporal model: {noCamera} of {people.Count} training images have no camera; travel times need cameras");
        MarketClock? clock = null;
        List<LabelledSighting> sightings;
        if (people.All(r => r.Timestamp is null) && AreMarketStyle(people))
        {
            clock = MarketClock.Learn(people.Select(r => new SequenceFrame(r.PersonId, r.Camera!, r.Sequence!.Value, r.Frame!.Value)).ToList(), clockOptions);
            sightings = people.Select(r => new LabelledSighting(r.PersonId, r.Camera!, clock.Timestamp(r.Camera!, r.Sequence!.Value, r.Frame!.Value)!.Value)).ToList();
        }
        else
        {
            var noTime = people.Count(r => r.Timestamp is null);
            if (noTime > 0) throw new ReidException($"spatial-temporal model: {noTime} of {people.Count} training images have no timestamp; travel times need times");
            sightings = people.Select(r => new LabelledSighting(r.PersonId, r.Camera!, r.Timestamp!.Value)).ToList();
        }
        return SpatialTemporalModel.Learn(sightings, options, clock, fusion);
    }
}
