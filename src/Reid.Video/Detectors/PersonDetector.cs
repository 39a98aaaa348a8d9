using Reid.Core;
using Reid.Imaging;
using Reid.Inference;

namespace Reid.Video.Detectors;

/// <summary>
/// Finds people in frames with a YOLO-family ONNX detector: letterbox to the model's input size, one ORT
/// run, layout-specific decoding, score threshold, NMS, and boxes mapped back to frame pixels.
/// The input size comes from the model (a dynamic input falls back to 416 x 416).
/// </summary>
public sealed class PersonDetector : IDisposable
{
    private const int FallbackInputSize = 416;
    private const byte PadValue = 114;

    private readonly InferenceSession _session;
    private readonly DetectorConfig _config;
    private YoloLayout _layout;
    private float[]? _buffer;

    public int InputWidth { get; }
    public int InputHeight { get; }
    public string ModelPath { get; }
    public YoloLayout Layout => _layout;

    public PersonDetector(string modelPath, DetectorConfig config)
    {
        config.Validate();
        _config = config;
        ModelPath = modelPath;
        _session = InferenceSession.Open(modelPath, new SessionOptions(IntraOpThreads: config.Threads));
        if (_session.Inputs.Count != 1 || _session.Inputs[0].Rank != 4)
            throw new ReidException($"{modelPath}: a detector takes one image tensor [1, 3, H, W]; {_session.ExpectedInputs}");
        var shape = _session.Inputs[0].Shape;
        if (shape[1] is > 0 and not 3)
            throw new ReidException($"{modelPath}: the input has {shape[1]} channels, a detector takes 3; {_session.ExpectedInputs}");
        InputHeight = shape[2] > 0 ? (int)shape[2] : FallbackInputSize;
        InputWidth = shape[3] > 0 ? (int)shape[3] : FallbackInputSize;
        _layout = config.Layout;
    }

    private bool YoloxPreprocessing => _config.Preprocessing switch
    {
        DetectorPreprocessing.Yolox => true,
        DetectorPreprocessing.Ultralytics => false,
        _ => _layout is YoloLayout.YoloxRaw or YoloLayout.YoloxDecoded or YoloLayout.Auto,
    };

    /// <summary>People in the image, best first, in image pixels. Not thread-safe (one input buffer).</summary>
    public List<Detection> Detect(RgbImage image)
    {
        var letterbox = Letterbox.Compute(image.Width, image.Height, InputWidth, InputHeight, centred: !YoloxPreprocessing);
        _buffer ??= new float[3 * InputWidth * InputHeight];
        letterbox.Fill(image, _buffer, bgr: YoloxPreprocessing, scale: YoloxPreprocessing ? 1f : 1f / 255f, PadValue);
        var output = _session.Run(_buffer, [1, 3, InputHeight, InputWidth], out var outShape);
        if (_layout == YoloLayout.Auto)
        {
            _layout = YoloOutput.DetectLayout(output, outShape, InputWidth, InputHeight);
            // The first frame was prepared for YOLOX; an Ultralytics model needs it again its own way.
            if (!YoloxPreprocessing) return Detect(image);
        }
        var dets = YoloOutput.Decode(output, outShape, _layout, InputWidth, InputHeight, _config.PersonClass, _config.ScoreThreshold);
        var mapped = new List<Detection>(dets.Count);
        foreach (var d in dets)
        {
            var box = letterbox.ToImage(d.Box).ClipTo(image.Width, image.Height);
            if (box.Height < Math.Max(1, _config.MinHeight) || box.Width < 1) continue;
            mapped.Add(d with { Box = box });
        }
        return YoloOutput.NonMaximumSuppression(mapped, _config.NmsIou);
    }

    public void Dispose() => _session.Dispose();
}

/// <summary>
/// Resizes a frame to fit the detector's input keeping its aspect ratio, padding the rest (to the
/// bottom-right for YOLOX, evenly around it for Ultralytics models), and maps boxes back.
/// </summary>
public readonly record struct Letterbox(float Scale, int ResizedWidth, int ResizedHeight, int PadX, int PadY, int InputWidth, int InputHeight)
{
    public static Letterbox Compute(int width, int height, int inputWidth, int inputHeight, bool centred)
    {
        float r = Math.Min((float)inputWidth / width, (float)inputHeight / height);
        int w = Math.Clamp((int)MathF.Round(width * r), 1, inputWidth), h = Math.Clamp((int)MathF.Round(height * r), 1, inputHeight);
        int px = centred ? (inputWidth - w) / 2 : 0, py = centred ? (inputHeight - h) / 2 : 0;
        return new Letterbox(r, w, h, px, py, inputWidth, inputHeight);
    }

    public BoundingBox ToImage(in BoundingBox b) =>
        new((b.X - PadX) / Scale, (b.Y - PadY) / Scale, b.Width / Scale, b.Height / Scale);

    /// <summary>Writes the letterboxed image as CHW floats (pixel × scale) in RGB or BGR plane order.</summary>
    public void Fill(RgbImage image, Span<float> chw, bool bgr, float scale, byte pad)
    {
        int plane = InputWidth * InputHeight;
        chw[..(3 * plane)].Fill(pad * scale);
        var resized = ResizedWidth == image.Width && ResizedHeight == image.Height ? image : ImageResize.Bilinear(image, ResizedWidth, ResizedHeight);
        var px = resized.Pixels;
        int c0 = bgr ? 2 : 0, c2 = bgr ? 0 : 2;
        for (int y = 0; y < ResizedHeight; y++)
        {
            int src = y * resized.Stride;
            int dst = (y + PadY) * InputWidth + PadX;
            for (int x = 0; x < ResizedWidth; x++, src += 3, dst++)
            {
                chw[c0 * plane + dst] = px[src] * scale;
                chw[plane + dst] = px[src + 1] * scale;
                chw[c2 * plane + dst] = px[src + 2] * scale;
            }
        }
    }
}
