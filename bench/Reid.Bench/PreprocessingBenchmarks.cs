using BenchmarkDotNet.Attributes;
using Reid.Imaging;

namespace Reid.Bench;

/// <summary>
/// Per-crop costs of the embedding pipeline's CPU side: decode a Market-1501-sized crop (64x128), resize it to
/// the model's 256x128 and normalise into NCHW floats. `dotnet run -c Release --project bench/Reid.Bench -- --filter '*Preprocessing*'`.
/// </summary>
[MemoryDiagnoser]
public class PreprocessingBenchmarks
{
    private RgbImage _crop = null!;
    private byte[] _jpeg = null!, _png = null!;
    private readonly float[] _tensor = new float[3 * 256 * 128];
    private readonly Preprocessing _imageNet = Preprocessing.ImageNet(256, 128);

    [GlobalSetup]
    public void Setup()
    {
        _crop = RgbImage.Blank(64, 128);
        var rng = new Random(1);
        for (var y = 0; y < 128; y++)
        for (var x = 0; x < 64; x++)
        {
            var i = 3 * (y * 64 + x);
            // smooth content with a little noise: compresses like a real crop, unlike pure noise
            _crop.Pixels[i] = (byte)(x * 4 + rng.Next(8));
            _crop.Pixels[i + 1] = (byte)(y * 2 + rng.Next(8));
            _crop.Pixels[i + 2] = (byte)((x + y) % 256);
        }
        _jpeg = ImageCodec.EncodeJpeg(_crop, 90);
        _png = ImageCodec.EncodePng(_crop);
    }

    [Benchmark(Description = "decode JPEG 64x128 (libjpeg-turbo)")]
    public RgbImage DecodeJpeg() => ImageCodec.Decode(_jpeg, "crop.jpg");

    [Benchmark(Description = "decode PNG 64x128")]
    public RgbImage DecodePng() => ImageCodec.Decode(_png, "crop.png");

    [Benchmark(Baseline = true, Description = "resize+normalise 64x128 -> 3x256x128 floats")]
    public void ResizeNormalise() => _imageNet.Apply(_crop, _tensor);

    [Benchmark(Description = "resize+normalise, mirrored")]
    public void ResizeNormaliseFlip() => _imageNet.Apply(_crop, _tensor, flip: true);

    [Benchmark(Description = "bilinear resize to bytes 64x128 -> 128x256")]
    public RgbImage ResizeBytes() => ImageResize.Bilinear(_crop, 128, 256);
}
