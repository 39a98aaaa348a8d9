using Reid.Data;

namespace Reid.Evaluation;

/// <summary>What a gallery image is to a query under the evaluation protocol.</summary>
public enum PairRelation : byte { Negative, Positive, Ignored }

/// <summary>
/// The Market-1501 protocol: a gallery image of the query's identity seen by the query's camera is ignored
/// (matching it is too easy), junk (-1) is always ignored, distractors (0000) are negatives for every query.
/// When either camera is unknown no same-camera rule applies.
/// </summary>
public static class Market1501Protocol
{
    public static PairRelation Relate(ImageRecord query, ImageRecord gallery)
    {
        if (gallery.IsJunk) return PairRelation.Ignored;
        if (gallery.PersonId != query.PersonId || query.IsJunk || query.IsDistractor) return PairRelation.Negative;
        if (query.Camera is not null && gallery.Camera is not null && query.Camera == gallery.Camera) return PairRelation.Ignored;
        return PairRelation.Positive;
    }
}
