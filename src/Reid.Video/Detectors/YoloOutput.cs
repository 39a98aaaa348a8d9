using Reid.Core;
using Reid.Imaging;

namespace Reid.Video.Detectors;

/// <summary>How a YOLO-family detector lays out its output tensor.</summary>
public enum YoloLayout
{
    /// <summary>Decide from the output shape (and, for YOLOX, from the magnitudes of the box columns).</summary>
    Auto,
    /// <summary>[1, N, 5+C], N = grid cells over strides 8/16/32, raw head: (x+gx)*s, exp(w)*s; obj, cls.</summary>
    YoloxRaw,
    /// <summary>[1, N, 5+C], N = grid cells, boxes already decoded to input pixels (cx, cy, w, h); obj, cls.</summary>
    YoloxDecoded,
    /// <summary>[1, 3N, 5+C]: three anchors per cell, decoded (cx, cy, w, h), obj, cls (YOLOv5/v7).</summary>
    YoloV5,
    /// <summary>[1, 4+C, N]: decoded (cx, cy, w, h) then class scores, no objectness (YOLOv8/v11).</summary>
    YoloV8,
}

/// <summary>
/// Turns a YOLO-family output tensor into person boxes in letterboxed-input pixels. Pure functions on the
/// tensor, so each layout is tested with hand-made tensors.
/// </summary>
public static class YoloOutput
{
    public static readonly int[] Strides = [8, 16, 32];

    /// <summary>Grid cells of a YOLOX/YOLOv8 head for an input of the given size.</summary>
    public static int GridCells(int inputWidth, int inputHeight) =>
        Strides.Sum(s => (inputWidth / s) * (inputHeight / s));

    public static YoloLayout DetectLayout(ReadOnlySpan<float> output, IReadOnlyList<long> shape, int inputWidth, int inputHeight)
    {
        if (shape.Count != 3 || shape[0] != 1)
            throw new ReidException($"detector output has shape [{string.Join(",", shape)}]; expected [1, boxes, 5+classes] (YOLOX/YOLOv5) or [1, 4+classes, boxes] (YOLOv8)");
        long cells = GridCells(inputWidth, inputHeight);
        long a = shape[1], b = shape[2];
        if (b == cells && a >= 5 && a < b) return YoloLayout.YoloV8;
        if (a == 3 * cells && b >= 6) return YoloLayout.YoloV5;
        if (a == cells && b >= 6)
        {
            // A raw YOLOX head's w/h columns are log-scale (a few units at most); decoded ones are pixels.
            int k = (int)b;
            float maxWh = 0;
            for (long i = 0; i < a; i++) maxWh = Math.Max(maxWh, Math.Max(output[(int)(i * k + 2)], output[(int)(i * k + 3)]));
            return maxWh < 12 ? YoloLayout.YoloxRaw : YoloLayout.YoloxDecoded;
        }
        throw new ReidException(
            $"cannot tell the detector's output layout from shape [{string.Join(",", shape)}] with a {inputWidth}x{inputHeight} input " +
            $"({cells} grid cells over strides 8/16/32); set detector.layout in the video config (yolox_raw, yolox_decoded, yolo_v5, yolo_v8)");
    }

    /// <summary>
    /// Boxes of class <paramref name="personClass"/> scoring at least <paramref name="minScore"/>, in input pixels
    /// (before NMS). Scores outside [0, 1] are taken as logits and squashed.
    /// </summary>
    public static List<Detection> Decode(ReadOnlySpan<float> output, IReadOnlyList<long> shape, YoloLayout layout,
        int inputWidth, int inputHeight, int personClass, float minScore)
    {
        if (layout == YoloLayout.Auto) layout = DetectLayout(output, shape, inputWidth, inputHeight);
        var dets = new List<Detection>();
        if (layout == YoloLayout.YoloV8)
        {
            int channels = (int)shape[1], n = (int)shape[2];
            int classes = channels - 4;
            CheckClass(personClass, classes, shape);
            for (int i = 0; i < n; i++)
            {
                float score = Prob(output[(4 + personClass) * n + i]);
                if (score < minScore) continue;
                dets.Add(new Detection(BoundingBox.FromCenter(output[i], output[n + i], output[2 * n + i], output[3 * n + i]), score));
            }
            return dets;
        }

        int rows = (int)shape[1], k = (int)shape[2];
        CheckClass(personClass, k - 5, shape);
        if (layout == YoloLayout.YoloxRaw && rows != GridCells(inputWidth, inputHeight))
            throw new ReidException($"a raw YOLOX head for a {inputWidth}x{inputHeight} input has {GridCells(inputWidth, inputHeight)} rows, the output has {rows}");
        int row = 0;
        foreach (var (gx, gy, stride) in layout == YoloLayout.YoloxRaw ? Grid(inputWidth, inputHeight) : Rows(rows))
        {
            int o = row++ * k;
            float score = Prob(output[o + 4]) * Prob(output[o + 5 + personClass]);
            if (score < minScore) continue;
            float cx = output[o], cy = output[o + 1], w = output[o + 2], h = output[o + 3];
            if (layout == YoloLayout.YoloxRaw)
            {
                cx = (cx + gx) * stride;
                cy = (cy + gy) * stride;
                w = MathF.Exp(Math.Min(w, 10f)) * stride;
                h = MathF.Exp(Math.Min(h, 10f)) * stride;
            }
            dets.Add(new Detection(BoundingBox.FromCenter(cx, cy, w, h), score));
        }
        return dets;
    }

    private static IEnumerable<(int Gx, int Gy, int Stride)> Grid(int width, int height)
    {
        foreach (var s in Strides)
            for (int y = 0; y < height / s; y++)
                for (int x = 0; x < width / s; x++)
                    yield return (x, y, s);
    }

    private static IEnumerable<(int, int, int)> Rows(int n)
    {
        for (int i = 0; i < n; i++) yield return (0, 0, 1);
    }

    private static float Prob(float v) => v is >= 0 and <= 1 ? v : 1f / (1f + MathF.Exp(-v));

    private static void CheckClass(int personClass, int classes, IReadOnlyList<long> shape)
    {
        if (classes < 1 || personClass < 0 || personClass >= classes)
            throw new ReidException($"detector output [{string.Join(",", shape)}] has {classes} classes; person class {personClass} is out of range");
    }

    /// <summary>Greedy non-maximum suppression: keeps the best box of each cluster overlapping more than <paramref name="iouThreshold"/>.</summary>
    public static List<Detection> NonMaximumSuppression(List<Detection> detections, float iouThreshold, int maxDetections = 300)
    {
        var sorted = detections.OrderByDescending(d => d.Score).ToList();
        var kept = new List<Detection>();
        foreach (var d in sorted)
        {
            bool suppressed = false;
            foreach (var k in kept)
                if (BoundingBox.Iou(k.Box, d.Box) > iouThreshold) { suppressed = true; break; }
            if (suppressed) continue;
            kept.Add(d);
            if (kept.Count >= maxDetections) break;
        }
        return kept;
    }
}
