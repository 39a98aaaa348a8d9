using Reid.TestSupport;
using Reid.Video.Metrics;
using Reid.Imaging;

namespace Reid.Video.Tests;

/// <summary>HOTA on cases small enough to work out by hand.</summary>
public class HotaEvaluatorTests
{
    private static MotRow R(long frame, int id, float x, float h = 20) => new(frame, id, new BoundingBox(x, 0, 10, h));

    [Fact]
    public void Perfect_tracking_scores_one_at_every_threshold()
    {
        var gt = new[] { R(1, 1, 0), R(1, 2, 100), R(2, 1, 2), R(2, 2, 98), R(3, 1, 4) };
        var hyp = gt.Select(r => r with { Id = r.Id + 10 }).ToArray();
        var m = HotaEvaluator.Evaluate(gt, hyp);
        Assert.Equal(19, m.HotaPerAlpha.Count);
        Assert.All(m.HotaPerAlpha, v => Assert.Equal(1.0, v, 9));
        Assert.Equal((1.0, 1.0, 1.0, 1.0), (Math.Round(m.Hota, 9), Math.Round(m.DetA, 9), Math.Round(m.AssA, 9), Math.Round(m.LocA, 9)));
    }

    [Fact]
    public void An_identity_swap_halfway_leaves_detection_perfect_and_association_one_third()
    {
        // Objects A (1) and B (2), 4 frames, exact boxes. Hypothesis 7 follows A in frames 1-2 and B in 3-4, 8 the reverse.
        // Every true positive c has |TPA| = 2 (frames its gt and hyp ids are matched together), |FNA| = 4 − 2 and
        // |FPA| = 4 − 2, so A(c) = 2 / 6 = 1/3 = AssA; DetA = 1; HOTA = √(1/3).
        var gt = new List<MotRow>();
        var hyp = new List<MotRow>();
        for (int f = 1; f <= 4; f++)
        {
            gt.Add(R(f, 1, 0)); gt.Add(R(f, 2, 100));
            hyp.Add(R(f, f <= 2 ? 7 : 8, 0)); hyp.Add(R(f, f <= 2 ? 8 : 7, 100));
        }
        var m = HotaEvaluator.Evaluate(gt, hyp);
        Assert.Equal(1.0, m.DetA, 9);
        Assert.Equal(1.0 / 3, m.AssA, 9);
        Assert.Equal(Math.Sqrt(1.0 / 3), m.Hota, 9);
        Assert.Equal(0.5, MotEvaluator.Evaluate(gt, hyp).Idf1, 9);   // the same case through IDF1: 4 of 8 boxes keep their best id
    }

    [Fact]
    public void A_track_lost_halfway_halves_detection_and_association()
    {
        // One object in 4 frames, hypothesis only in frames 1-2: TP 2, FN 2, FP 0 → DetA = 2/4;
        // A(c) = 2 / (4 + 2 − 2) = 1/2 → AssA = 1/2; HOTA = 1/2 at every α.
        var gt = Enumerable.Range(1, 4).Select(f => R(f, 1, 0)).ToArray();
        var hyp = gt.Take(2).Select(r => r with { Id = 5 }).ToArray();
        var m = HotaEvaluator.Evaluate(gt, hyp);
        Assert.Equal(0.5, m.DetA, 9);
        Assert.Equal(0.5, m.AssA, 9);
        Assert.Equal(0.5, m.Hota, 9);
    }

    [Fact]
    public void A_box_of_iou_one_half_counts_for_the_ten_thresholds_up_to_one_half()
    {
        // IoU = 50/100 exactly: a true positive for α = 0.05 … 0.50 (HOTA_α = 1), FN + FP above (HOTA_α = 0).
        var m = HotaEvaluator.Evaluate([R(1, 1, 0, 10)], [R(1, 3, 0, 5)]);
        Assert.Equal(Enumerable.Repeat(1.0, 10).Concat(Enumerable.Repeat(0.0, 9)), m.HotaPerAlpha.Select(v => Math.Round(v, 9)));
        Assert.Equal(10.0 / 19, m.Hota, 9);
        Assert.Equal((0.5 * 10 + 9) / 19, m.LocA, 9);   // a threshold without true positives counts LocA 1, as in the authors' code
    }

    [Fact]
    public void Association_decides_the_match_when_two_hypotheses_overlap_one_object()
    {
        // Hypothesis 5 follows object 1 for 3 frames; in frame 3 a short-lived hypothesis 6 overlaps object 1 slightly
        // better. HOTA matches by IoU weighted by id alignment, so 5 keeps object 1 and 6 is a false positive:
        // TP 3, FP 1 → DetA = 3/4 at α ≤ 0.8 (both IoUs ≥ 0.8), AssA = 3 / (3 + 3 − 3) = 1.
        var gt = Enumerable.Range(1, 3).Select(f => R(f, 1, 0)).ToArray();
        var hyp = new List<MotRow> { R(1, 5, 0), R(2, 5, 0), R(3, 5, 1), R(3, 6, 0.5f) };
        var m = HotaEvaluator.Evaluate(gt, hyp);
        Assert.Equal(0.75, m.DetAPerAlpha[0], 9);
        Assert.Equal(1.0, m.AssAPerAlpha[0], 9);
    }

    [SharedFact]
    public void Scores_the_shared_ground_truth_against_itself_as_perfect()
    {
        var gt = MotFile.Read(Path.Combine(SharedData.TudStadtmitte, "gt", "gt.txt"));
        Assert.Equal(1.0, HotaEvaluator.Evaluate(gt, gt).Hota, 6);
    }
}
