using System.IO.Compression;
using Reid.Imaging.Native;

namespace Reid.Imaging;

/// <summary>Limits applied while decoding untrusted images.</summary>
/// <param name="MaxPixels">Images with more pixels are refused from their header, before any pixel buffer is allocated.</param>
public sealed record ImageDecodeOptions(long MaxPixels = ImageDecodeOptions.DefaultMaxPixels)
{
    /// <summary>64 megapixels: well above any camera frame (8K is 33 MP), far below what exhausts memory.</summary>
    public const long DefaultMaxPixels = 64L * 1024 * 1024;
    public static ImageDecodeOptions Default { get; } = new();
}

/// <summary>
/// Decodes JPEG (libjpeg-turbo) and PNG into <see cref="RgbImage"/>, choosing the decoder from the file's
/// magic bytes (never its extension), and encodes crops and thumbnails. Every failure is an
/// <see cref="ImageDecodeException"/> naming the file. Thread-safe.
/// </summary>
public static class ImageCodec
{
    public static RgbImage Decode(string path, ImageDecodeOptions? options = null)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException) { throw new ImageDecodeException(path, "file not found"); }
        catch (DirectoryNotFoundException) { throw new ImageDecodeException(path, "file not found (no such folder)"); }
        catch (UnauthorizedAccessException e) { throw new ImageDecodeException(path, "cannot read the file (permission denied or a folder)", e); }
        catch (IOException e) { throw new ImageDecodeException(path, $"cannot read the file ({e.Message})", e); }
        return Decode(bytes, path, options);
    }

    /// <param name="name">The file name shown in errors.</param>
    public static RgbImage Decode(ReadOnlySpan<byte> bytes, string name, ImageDecodeOptions? options = null)
    {
        var maxPixels = (options ?? ImageDecodeOptions.Default).MaxPixels;
        if (bytes.IsEmpty) throw new ImageDecodeException(name, "empty file (0 bytes)");
        return Sniff(bytes) switch
        {
            ImageFormat.Jpeg => DecodeJpeg(bytes, name, maxPixels),
            ImageFormat.Png => PngCodec.Decode(bytes, name, maxPixels),
            ImageFormat.Unknown => throw new ImageDecodeException(name, "not a JPEG or PNG image (unrecognised content)"),
            var other => throw new ImageDecodeException(name, $"unsupported image format {other} (only JPEG and PNG are read)"),
        };
    }

    /// <summary>The format named by the leading bytes of a file.</summary>
    public static ImageFormat Sniff(ReadOnlySpan<byte> b) => b switch
    {
        [0xFF, 0xD8, 0xFF, ..] => ImageFormat.Jpeg,
        [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => ImageFormat.Png,
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => ImageFormat.Gif,
        [(byte)'B', (byte)'M', ..] => ImageFormat.Bmp,
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => ImageFormat.WebP,
        [(byte)'I', (byte)'I', 42, 0, ..] or [(byte)'M', (byte)'M', 0, 42, ..] => ImageFormat.Tiff,
        _ => ImageFormat.Unknown,
    };

    private static RgbImage DecodeJpeg(ReadOnlySpan<byte> bytes, string name, long maxPixels)
    {
        if (!TurboJpeg.TryReadHeader(bytes, out var w, out var h, out var error))
            throw new ImageDecodeException(name, $"corrupt or truncated JPEG ({error})");
        CheckSize(name, w, h, maxPixels);
        var pixels = new byte[3L * w * h];
        if (!TurboJpeg.TryDecode(bytes, pixels, w, h, out error))
            throw new ImageDecodeException(name, $"corrupt or truncated JPEG ({error})");
        return new RgbImage(w, h, pixels);
    }

    internal static void CheckSize(string name, int width, int height, long maxPixels)
    {
        if (width <= 0 || height <= 0) throw new ImageDecodeException(name, $"invalid image size {width}x{height}");
        if ((long)width * height > maxPixels)
            throw new ImageDecodeException(name, $"image too large: {width}x{height} is above the limit of {maxPixels:N0} pixels");
    }

    /// <summary>Baseline JPEG, 4:2:0 chroma (4:4:4 when <paramref name="fullChroma"/>).</summary>
    public static byte[] EncodeJpeg(RgbImage image, int quality = 90, bool fullChroma = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);
        return TurboJpeg.Encode(image.Pixels, image.Width, image.Height, quality,
            fullChroma ? TurboJpeg.Subsampling444 : TurboJpeg.Subsampling420);
    }

    /// <summary>Lossless 8-bit RGB PNG.</summary>
    public static byte[] EncodePng(RgbImage image, CompressionLevel level = CompressionLevel.Fastest) => PngCodec.Encode(image, level);

    /// <summary>Writes the image as JPEG or PNG, chosen by the extension of <paramref name="path"/> (.png, else JPEG).</summary>
    public static void Save(RgbImage image, string path, int jpegQuality = 90) =>
        File.WriteAllBytes(path, Path.GetExtension(path).Equals(".png", StringComparison.OrdinalIgnoreCase)
            ? EncodePng(image) : EncodeJpeg(image, jpegQuality));
}

public enum ImageFormat { Unknown, Jpeg, Png, Gif, Bmp, WebP, Tiff }
