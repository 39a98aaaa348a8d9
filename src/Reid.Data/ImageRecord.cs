namespace Reid.Data;

/// <summary>
/// One labelled person crop of a data set. <see cref="Camera"/> is null when the source says nothing about
/// cameras (folder-per-identity, CSV without a camera column): the evaluation then ignores no same-camera
/// matches. <see cref="Timestamp"/> is in seconds from any fixed origin, or null when unknown.
/// </summary>
public sealed record ImageRecord(
    string Path,
    int PersonId,
    string? Camera,
    int? Sequence = null,
    int? Frame = null,
    double? Timestamp = null)
{
    /// <summary>Market-1501's id for junk crops (bad detections): never a match, never a negative.</summary>
    public const int JunkId = -1;

    /// <summary>Market-1501's id for distractors: people of no interest, kept in the gallery as negatives.</summary>
    public const int DistractorId = 0;

    public bool IsJunk => PersonId == JunkId;
    public bool IsDistractor => PersonId == DistractorId;

    /// <summary>The file name without folders, for tables and reports.</summary>
    public string Name => System.IO.Path.GetFileName(Path);
}
