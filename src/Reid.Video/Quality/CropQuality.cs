namespace Reid.Video.Quality;

/// <summary>Why a crop of a tracked person is not worth keeping as a sample of that person.</summary>
public enum CropFlaw
{
    /// <summary>The box touches the frame's edge: part of the person is outside the picture.</summary>
    CutAtBorder,
    /// <summary>The box is far from a standing person's shape (only a part of the body, or two people in one box).</summary>
    Truncated,
    /// <summary>Much less sharp than the track's other crops (motion blur, focus).</summary>
    Blurred,
    /// <summary>Another detection in the same frame, nearer the camera, covers a large part of the box.</summary>
    Occluded,
}

/// <summary>
/// How good a crop is as a sample of its person, with the measurements behind the verdict: a flawed crop
/// enrolled in the gallery would match other people's flawed crops (borders, occluders) rather than this person.
/// </summary>
/// <param name="TouchesBorder">The box reaches the frame's edge.</param>
/// <param name="AspectRatio">Box height / width (a standing person is about 2–4).</param>
/// <param name="Occlusion">The largest fraction of the box covered by one nearer detection of the same frame.</param>
/// <param name="Sharpness">Variance of the Laplacian of the crop's grey levels at a fixed height (see <see cref="CropQualityRules"/>).</param>
/// <param name="RelativeSharpness">Sharpness / the median of its track's crops; null until judged with its track.</param>
/// <param name="Flaws">Empty for a usable crop.</param>
public sealed record CropQuality(
    bool TouchesBorder, double AspectRatio, double Occlusion, double Sharpness, double? RelativeSharpness, IReadOnlyList<CropFlaw> Flaws)
{
    public bool Usable => Flaws.Count == 0;

    /// <summary>What is wrong, in words for the UI and messages ("cut at frame border, occluded"); null when usable.</summary>
    public string? Reason => Usable ? null : string.Join(", ", Flaws.Select(Describe));

    public static string Describe(CropFlaw flaw) => flaw switch
    {
        CropFlaw.CutAtBorder => "cut at frame border",
        CropFlaw.Truncated => "truncated body",
        CropFlaw.Blurred => "blurred",
        CropFlaw.Occluded => "occluded",
        _ => flaw.ToString(),
    };
}
