using System.Globalization;
using System.Text.RegularExpressions;
using Reid.Core;

namespace Reid.Data;

/// <summary>
/// The parts of a Market-1501 file name <c>PPPP_cCsS_FFFFFF_BB.jpg</c>: person id (-1 junk, 0000 distractor),
/// camera C, sequence S, frame number within that camera's sequence (25 fps) and bounding-box index.
/// </summary>
public readonly partial record struct Market1501Name(int PersonId, int Camera, int Sequence, int Frame, int Box)
{
    [GeneratedRegex(@"^(-1|\d{4})_c(\d)s(\d)_(\d{6})_(\d{2})\.(jpg|jpeg|png)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Parses a file name (folders are ignored); null when it does not follow the convention.</summary>
    public static Market1501Name? TryParse(string path)
    {
        var m = Pattern().Match(System.IO.Path.GetFileName(path));
        if (!m.Success) return null;
        static int I(Group g) => int.Parse(g.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return new Market1501Name(I(m.Groups[1]), I(m.Groups[2]), I(m.Groups[3]), I(m.Groups[4]), I(m.Groups[5]));
    }

    /// <summary>Parses a file name or throws a <see cref="ReidException"/> naming it and where it came from.</summary>
    public static Market1501Name Parse(string path, string source)
    {
        return TryParse(path) ?? throw new ReidException(
            $"{source}: '{path}' is not a Market-1501 file name (expected PPPP_cCsS_FFFFFF_BB.jpg, e.g. 0002_c1s1_000451_03.jpg)");
    }

    /// <summary>
    /// A record for this crop. The timestamp stays null: Market-1501's frame numbers restart with each
    /// sequence and the offsets between sequences belong to the spatial-temporal model, not to the loader.
    /// </summary>
    public ImageRecord ToRecord(string path) =>
        new(path, PersonId, Camera.ToString(CultureInfo.InvariantCulture), Sequence, Frame);
}
