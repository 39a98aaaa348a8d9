namespace Reid.SpatialTemporal;

/// <summary>
/// Where and when a person was seen: a camera id and a time in seconds from any origin shared by all cameras
/// of the network. Either may be unknown (null); the fusion then falls back to appearance and says so.
/// </summary>
public readonly record struct CameraTime(string? Camera, double? Timestamp)
{
    public bool IsComplete => Camera is not null && Timestamp is { } t && double.IsFinite(t);
}

/// <summary>A sighting of a known person: what the model learns travel times from.</summary>
public readonly record struct LabelledSighting(int PersonId, string Camera, double Timestamp);
