using System.Runtime.InteropServices;

namespace Reid.Imaging.Native;

/// <summary>
/// libjpeg-turbo's TurboJPEG 2.x C API (Debian libturbojpeg0). A handle is not thread-safe, so each thread keeps
/// its own decompressor and compressor, released with the thread (SafeHandle finaliser).
/// </summary>
internal static partial class TurboJpeg
{
    private const string Lib = "libturbojpeg.so.0";
    private const int PixelFormatRgb = 0;      // TJPF_RGB
    private const int ErrorWarning = 0;        // TJERR_WARNING
    public const int Subsampling444 = 0, Subsampling420 = 2;   // TJSAMP_444, TJSAMP_420

    [LibraryImport(Lib)] private static partial IntPtr tjInitDecompress();
    [LibraryImport(Lib)] private static partial IntPtr tjInitCompress();
    [LibraryImport(Lib)] internal static partial int tjDestroy(IntPtr handle);
    [LibraryImport(Lib)] private static partial IntPtr tjGetErrorStr2(IntPtr handle);
    [LibraryImport(Lib)] private static partial int tjGetErrorCode(IntPtr handle);
    [LibraryImport(Lib)] private static partial void tjFree(IntPtr buffer);

    [LibraryImport(Lib)]
    private static unsafe partial int tjDecompressHeader3(IntPtr handle, byte* jpeg, nuint size,
        out int width, out int height, out int subsampling, out int colorspace);

    [LibraryImport(Lib)]
    private static unsafe partial int tjDecompress2(IntPtr handle, byte* jpeg, nuint size, byte* dst,
        int width, int pitch, int height, int pixelFormat, int flags);

    [LibraryImport(Lib)]
    private static unsafe partial int tjCompress2(IntPtr handle, byte* src, int width, int pitch, int height,
        int pixelFormat, ref IntPtr jpeg, ref nuint size, int subsampling, int quality, int flags);

    private sealed class Handle : SafeHandle
    {
        public Handle(IntPtr h) : base(IntPtr.Zero, true) => SetHandle(h);
        public override bool IsInvalid => handle == IntPtr.Zero;
        protected override bool ReleaseHandle() => tjDestroy(handle) == 0;
    }

    [ThreadStatic] private static Handle? _decompressor;
    [ThreadStatic] private static Handle? _compressor;

    private static IntPtr Decompressor() => (_decompressor ??= Create(tjInitDecompress(), "decompressor")).DangerousGetHandle();
    private static IntPtr Compressor() => (_compressor ??= Create(tjInitCompress(), "compressor")).DangerousGetHandle();

    /// <summary>
    /// After a failed call the handle can be left mid-stream (the next good file then fails with "unsupported
    /// marker"), so a thread's decompressor is replaced after every error; errors are rare, handles are cheap.
    /// </summary>
    private static void ResetDecompressor()
    {
        _decompressor?.Dispose();
        _decompressor = null;
    }

    private static Handle Create(IntPtr h, string what) =>
        h == IntPtr.Zero ? throw new InvalidOperationException($"libjpeg-turbo could not create a {what}") : new Handle(h);

    private static string ErrorText(IntPtr h) => Marshal.PtrToStringUTF8(tjGetErrorStr2(h)) ?? "unknown libjpeg-turbo error";

    /// <summary>Reads the JPEG header: size, or an error message.</summary>
    public static unsafe bool TryReadHeader(ReadOnlySpan<byte> jpeg, out int width, out int height, out string? error)
    {
        var h = Decompressor();
        fixed (byte* p = jpeg)
        {
            if (tjDecompressHeader3(h, p, (nuint)jpeg.Length, out width, out height, out _, out _) != 0)
            {
                error = ErrorText(h);
                ResetDecompressor();
                return false;
            }
            if (width <= 0 || height <= 0)
            {
                error = "no frame header";
                ResetDecompressor();
                return false;
            }
        }
        error = null;
        return true;
    }

    /// <summary>
    /// Decodes into <paramref name="rgb"/> (3*width*height bytes). Warnings (e.g. "premature end of data" on a
    /// truncated file, where libjpeg fills the rest with grey) count as errors: a half-grey crop is not the person.
    /// </summary>
    public static unsafe bool TryDecode(ReadOnlySpan<byte> jpeg, Span<byte> rgb, int width, int height, out string? error)
    {
        var h = Decompressor();
        fixed (byte* p = jpeg)
        fixed (byte* d = rgb)
        {
            if (tjDecompress2(h, p, (nuint)jpeg.Length, d, width, 3 * width, height, PixelFormatRgb, 0) != 0)
            {
                var kind = tjGetErrorCode(h) == ErrorWarning ? "damaged JPEG data" : "JPEG decode failed";
                error = $"{kind}: {ErrorText(h)}";
                ResetDecompressor();
                return false;
            }
        }
        error = null;
        return true;
    }

    public static unsafe byte[] Encode(ReadOnlySpan<byte> rgb, int width, int height, int quality, int subsampling)
    {
        var h = Compressor();
        IntPtr buffer = IntPtr.Zero;
        nuint size = 0;
        try
        {
            fixed (byte* s = rgb)
            {
                if (tjCompress2(h, s, width, 3 * width, height, PixelFormatRgb, ref buffer, ref size, subsampling, quality, 0) != 0)
                    throw new InvalidOperationException($"JPEG encode failed: {ErrorText(h)}");
            }
            return new ReadOnlySpan<byte>((void*)buffer, checked((int)size)).ToArray();
        }
        finally
        {
            if (buffer != IntPtr.Zero) tjFree(buffer);
        }
    }
}
