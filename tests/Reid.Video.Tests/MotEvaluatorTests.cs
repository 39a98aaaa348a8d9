using Reid.TestSupport;
using Reid.Video.Metrics;
using Reid.Imaging;

namespace Reid.Video.Tests;

public class MotEvaluatorTests
{
    private static MotRow R(long frame, int id, float x, float y = 0) => new(frame, id, new BoundingBox(x, y, 10, 20));

    [Fact]
    public void Perfect_tracking_scores_one()
    {
        var gt = new[] { R(1, 1, 0), R(1, 2, 100), R(2, 1, 2), R(2, 2, 98) };
        var hyp = new[] { R(1, 7, 0), R(1, 8, 100), R(2, 7, 2), R(2, 8, 98) };
        var m = MotEvaluator.Evaluate(gt, hyp);
        Assert.Equal(1.0, m.Mota, 9);
        Assert.Equal(1.0, m.Idf1, 9);
        Assert.Equal(0, m.IdSwitches);
        Assert.Equal(4, m.TruePositives);
    }

    [Fact]
    public void An_identity_swap_counts_one_switch_per_object_and_lowers_idf1()
    {
        // Two objects tracked for 4 frames; from frame 3 on the hypothesis ids are swapped.
        var gt = new List<MotRow>();
        var hyp = new List<MotRow>();
        for (int f = 1; f <= 4; f++)
        {
            gt.Add(R(f, 1, 0)); gt.Add(R(f, 2, 100));
            bool swapped = f >= 3;
            hyp.Add(R(f, swapped ? 11 : 10, 0)); hyp.Add(R(f, swapped ? 10 : 11, 100));
        }
        var m = MotEvaluator.Evaluate(gt, hyp);
        Assert.Equal(2, m.IdSwitches);
        Assert.Equal(1 - 2.0 / 8, m.Mota, 9);
        // best mapping keeps 2 frames for each object: IDTP = 4 of 8 gt and 8 hyp boxes
        Assert.Equal(0.5, m.Idf1, 9);
    }

    [Fact]
    public void Misses_and_false_positives_are_counted_with_iou_half()
    {
        var gt = new[] { R(1, 1, 0), R(1, 2, 100) };
        // one good hypothesis, one whose IoU with gt 2 is below 0.5 (shifted by 7 of 10 px), one spurious
        var hyp = new[] { R(1, 1, 0), R(1, 2, 107), R(1, 3, 300) };
        var m = MotEvaluator.Evaluate(gt, hyp);
        Assert.Equal(1, m.TruePositives);
        Assert.Equal(1, m.FalseNegatives);
        Assert.Equal(2, m.FalsePositives);
        Assert.Equal(1 - 3.0 / 2, m.Mota, 9);
        Assert.Equal(2.0 * 1 / 5, m.Idf1, 9);
    }

    [Fact]
    public void A_kept_correspondence_beats_a_slightly_better_new_one()
    {
        // Frame 1: gt 1 <-> hyp 5. Frame 2: hyp 6 overlaps gt 1 a bit better, but hyp 5 still overlaps ≥ 0.5:
        // the correspondence is kept (no switch), hyp 6 is a false positive.
        var gt = new[] { R(1, 1, 0), R(2, 1, 0) };
        var hyp = new[] { R(1, 5, 0), R(2, 5, 2), R(2, 6, 1) };
        var m = MotEvaluator.Evaluate(gt, hyp);
        Assert.Equal(0, m.IdSwitches);
        Assert.Equal(1, m.FalsePositives);
    }

    [Fact]
    public void Zero_confidence_ground_truth_is_ignored_and_distractor_matches_removed()
    {
        var gt = new[]
        {
            new MotRow(1, 1, new BoundingBox(0, 0, 10, 20), 1, 1),
            new MotRow(1, 2, new BoundingBox(100, 0, 10, 20), 0, 1),   // ignored (conf 0)
            new MotRow(1, 3, new BoundingBox(200, 0, 10, 20), 1, 7),   // static person: a distractor
        };
        var hyp = new[] { R(1, 1, 0), R(1, 2, 200) };
        var m = MotEvaluator.Evaluate(gt, hyp);
        Assert.Equal(1, m.GroundTruth);
        Assert.Equal(1, m.Hypotheses); // the one on the distractor is dropped
        Assert.Equal(1.0, m.Mota, 9);
    }

    [Fact]
    public void Mot_files_round_trip_and_bad_lines_name_the_file()
    {
        using var dir = new TempDir();
        var rows = new[] { R(1, 1, 0), R(2, 1, 3.5f) };
        MotFile.Write(dir.File("t.txt"), rows);
        var back = MotFile.Read(dir.File("t.txt"));
        Assert.Equal(2, back.Count);
        Assert.Equal(3.5f, back[1].Box.X);
        File.WriteAllText(dir.File("bad.txt"), "1,2,3\n");
        var e = Assert.Throws<Core.ReidException>(() => MotFile.Read(dir.File("bad.txt")));
        Assert.Contains("bad.txt:1", e.Message);
    }
}
