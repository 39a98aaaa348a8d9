using Reid.Core;

namespace Reid.Imaging;

/// <summary>An image that cannot be read (missing, empty, truncated, corrupt, not an image, too large); names the file.</summary>
public sealed class ImageDecodeException : ReidException
{
    /// <summary>The path or name of the offending image, as the caller gave it.</summary>
    public string FileName { get; }

    public ImageDecodeException(string fileName, string problem, Exception? inner = null)
        : base($"{fileName}: {problem}", inner ?? new InvalidDataException(problem))
    {
        FileName = fileName;
    }
}
