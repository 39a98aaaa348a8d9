using Reid.Video.Detectors;
using Reid.Video.Metrics;
using Reid.Imaging;

namespace Reid.Video.Tests;

public class YoloOutputTests
{
    private const int Size = 64; // 8x8 + 4x4 + 2x2 = 84 grid cells

    [Fact]
    public void Raw_yolox_head_is_grid_decoded_and_scored_obj_times_class()
    {
        int cells = YoloOutput.GridCells(Size, Size);
        Assert.Equal(84, cells);
        const int k = 5 + 2; // two classes: person (0) and something else
        var t = new float[cells * k];
        // cell (x=3, y=2) of stride 8 is row 2*8+3 = 19: box centre (3.5*8, 2.5*8) = (28, 20), w = e^1*8, h = e^2*8
        Set(t, 19, k, 0.5f, 0.5f, 1f, 2f, 0.9f, 0.8f, 0.1f);
        // a confident "other class" box must not come out as a person
        Set(t, 30, k, 0, 0, 0, 0, 0.9f, 0.05f, 0.95f);
        long[] shape = [1, cells, k];
        Assert.Equal(YoloLayout.YoloxRaw, YoloOutput.DetectLayout(t, shape, Size, Size));
        var d = Assert.Single(YoloOutput.Decode(t, shape, YoloLayout.Auto, Size, Size, 0, 0.3f));
        Assert.Equal(0.72f, d.Score, 4);
        Assert.Equal(28f, d.Box.CenterX, 3);
        Assert.Equal(20f, d.Box.CenterY, 3);
        Assert.Equal(MathF.E * 8, d.Box.Width, 3);
        Assert.Equal(MathF.E * MathF.E * 8, d.Box.Height, 3);
    }

    [Fact]
    public void Logit_scores_are_squashed_with_a_sigmoid()
    {
        int cells = YoloOutput.GridCells(Size, Size);
        const int k = 6;
        var t = new float[cells * k];
        Set(t, 0, k, 0, 0, 0, 0, 3f, 3f); // sigmoid(3)^2 ≈ 0.907
        var d = Assert.Single(YoloOutput.Decode(t, [1, cells, k], YoloLayout.YoloxRaw, Size, Size, 0, 0.5f));
        Assert.Equal(0.9073f, d.Score, 3);
    }

    [Fact]
    public void Yolov5_output_has_three_anchors_per_cell_and_decoded_boxes()
    {
        int rows = 3 * YoloOutput.GridCells(Size, Size);
        const int k = 6;
        var t = new float[rows * k];
        Set(t, 100, k, 30, 40, 10, 20, 0.9f, 0.9f);
        long[] shape = [1, rows, k];
        Assert.Equal(YoloLayout.YoloV5, YoloOutput.DetectLayout(t, shape, Size, Size));
        var d = Assert.Single(YoloOutput.Decode(t, shape, YoloLayout.Auto, Size, Size, 0, 0.5f));
        Assert.Equal(new BoundingBox(25, 30, 10, 20), d.Box);
    }

    [Fact]
    public void Yolov8_output_is_channels_first_without_objectness()
    {
        int n = YoloOutput.GridCells(Size, Size);
        const int channels = 4 + 3;
        var t = new float[channels * n];
        int i = 50;
        t[i] = 30; t[n + i] = 40; t[2 * n + i] = 10; t[3 * n + i] = 20;
        t[(4 + 0) * n + i] = 0.2f; t[(4 + 2) * n + i] = 0.8f; // person is class 2 in this model
        long[] shape = [1, channels, n];
        Assert.Equal(YoloLayout.YoloV8, YoloOutput.DetectLayout(t, shape, Size, Size));
        var d = Assert.Single(YoloOutput.Decode(t, shape, YoloLayout.Auto, Size, Size, personClass: 2, 0.5f));
        Assert.Equal(0.8f, d.Score);
        Assert.Equal(new BoundingBox(25, 30, 10, 20), d.Box);
    }

    [Fact]
    public void Unknown_layouts_and_bad_classes_are_clear_errors()
    {
        var e = Assert.Throws<Core.ReidException>(() => YoloOutput.DetectLayout(new float[10], [1, 2, 5], Size, Size));
        Assert.Contains("detector.layout", e.Message);
        int cells = YoloOutput.GridCells(Size, Size);
        Assert.Throws<Core.ReidException>(() => YoloOutput.Decode(new float[cells * 6], [1, cells, 6], YoloLayout.YoloxRaw, Size, Size, 3, 0.5f));
    }

    [Fact]
    public void Nms_keeps_the_best_of_overlapping_boxes_only()
    {
        var dets = new List<Detection>
        {
            new(new BoundingBox(0, 0, 10, 20), 0.8f),
            new(new BoundingBox(1, 0, 10, 20), 0.9f),
            new(new BoundingBox(50, 0, 10, 20), 0.5f),
        };
        var kept = YoloOutput.NonMaximumSuppression(dets, 0.45f);
        Assert.Equal([0.9f, 0.5f], kept.Select(d => d.Score));
    }

    private static void Set(float[] t, int row, int k, params float[] values) => values.CopyTo(t, row * k);
}

public class DetectionEvaluatorTests
{
    [Fact]
    public void Average_precision_follows_the_ranked_list()
    {
        var gt = new[] { new MotRow(1, 1, new BoundingBox(0, 0, 10, 20)), new MotRow(1, 2, new BoundingBox(100, 0, 10, 20)) };
        var dets = new Dictionary<long, List<Detection>>
        {
            [1] =
            [
                new(new BoundingBox(0, 0, 10, 20), 0.9f),     // TP
                new(new BoundingBox(300, 0, 10, 20), 0.8f),   // FP
                new(new BoundingBox(100, 0, 10, 20), 0.7f),   // TP
                new(new BoundingBox(1, 0, 10, 20), 0.6f),     // duplicate of gt 1: FP
            ],
        };
        var r = DetectionEvaluator.AveragePrecision50(dets, gt);
        // recall 0.5 at precision 1, recall 1.0 at precision 2/3
        Assert.Equal(0.5 * 1 + 0.5 * (2.0 / 3), r.AveragePrecision, 9);
        Assert.Equal(2, r.GroundTruth);
    }

    [Fact]
    public void Detections_on_ignored_ground_truth_are_neither_true_nor_false()
    {
        var gt = new[]
        {
            new MotRow(1, 1, new BoundingBox(0, 0, 10, 20), 1, 1),
            new MotRow(1, 2, new BoundingBox(100, 0, 10, 20), 0, 1),
        };
        var dets = new Dictionary<long, List<Detection>> { [1] = [new(new BoundingBox(100, 0, 10, 20), 0.95f), new(new BoundingBox(0, 0, 10, 20), 0.9f)] };
        Assert.Equal(1.0, DetectionEvaluator.AveragePrecision50(dets, gt).AveragePrecision, 9);
    }
}
