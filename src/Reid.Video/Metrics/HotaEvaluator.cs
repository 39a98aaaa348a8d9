using Reid.Video.Tracking;
using Reid.Imaging;

namespace Reid.Video.Metrics;

/// <summary>
/// HOTA and its parts, each the mean over the localisation thresholds α = 0.05, 0.10, …, 0.95, with the
/// per-α values (<see cref="HotaEvaluator.Alphas"/> order).
/// </summary>
public sealed record HotaMetrics(
    double Hota, double DetA, double AssA, double LocA,
    IReadOnlyList<double> HotaPerAlpha, IReadOnlyList<double> DetAPerAlpha, IReadOnlyList<double> AssAPerAlpha);

/// <summary>
/// Higher Order Tracking Accuracy (Luiten et al., IJCV 2021). At a threshold α a ground-truth box and a
/// hypothesis form a true positive when they are matched in their frame with IoU ≥ α; then
/// DetA_α = |TP| / (|TP| + |FN| + |FP|), and AssA_α is the mean over true positives c of the association IoU
/// |TPA(c)| / (|TPA(c)| + |FNA(c)| + |FPA(c)|) — the frames where c's ground-truth id and c's hypothesis id are
/// matched together, over the frames where either appears. HOTA_α = √(DetA_α · AssA_α); HOTA is their mean over α.
/// The per-frame matching follows the paper: it maximises IoU weighted by how well the two ids align over the
/// whole sequence (the Jaccard index of their soft co-occurrence counts), is computed once, and each α keeps
/// its pairs with IoU ≥ α. Ground truth is filtered as in <see cref="MotEvaluator"/> (confidence 0 ignored,
/// hypotheses on non-pedestrian classes removed).
/// </summary>
public static class HotaEvaluator
{
    public static readonly IReadOnlyList<double> Alphas = Enumerable.Range(1, 19).Select(k => k * 0.05).ToArray();

    // IoU is a float: α = 0.5 must keep a pair whose IoU is exactly 0.5.
    private const double Epsilon = 1e-6;

    public static HotaMetrics Evaluate(IReadOnlyList<MotRow> groundTruth, IReadOnlyList<MotRow> hypotheses)
    {
        var frames = MotEvaluator.ScoredFrames(groundTruth, hypotheses);
        var gtIndex = new Dictionary<int, int>();
        var hypIndex = new Dictionary<int, int>();
        foreach (var (gts, hyps) in frames)
        {
            foreach (var g in gts) gtIndex.TryAdd(g.Id, gtIndex.Count);
            foreach (var h in hyps) hypIndex.TryAdd(h.Id, hypIndex.Count);
        }
        int nG = gtIndex.Count, nH = hypIndex.Count;
        var gtCount = new double[nG];
        var hypCount = new double[nH];
        var potential = new double[nG, nH];
        var ious = new List<float[,]>(frames.Count);

        // Pass 1: how often each (gt id, hyp id) pair could be matched, softly (each frame's IoU shared out
        // like a Jaccard index between the pair and their competitors).
        foreach (var (gts, hyps) in frames)
        {
            var iou = new float[gts.Count, hyps.Count];
            var rowSum = new double[gts.Count];
            var colSum = new double[hyps.Count];
            for (int g = 0; g < gts.Count; g++)
            for (int h = 0; h < hyps.Count; h++)
            {
                iou[g, h] = BoundingBox.Iou(gts[g].Box, hyps[h].Box);
                rowSum[g] += iou[g, h];
                colSum[h] += iou[g, h];
            }
            for (int g = 0; g < gts.Count; g++)
            for (int h = 0; h < hyps.Count; h++)
                if (iou[g, h] > 0) potential[gtIndex[gts[g].Id], hypIndex[hyps[h].Id]] += iou[g, h] / (rowSum[g] + colSum[h] - iou[g, h]);
            foreach (var g in gts) gtCount[gtIndex[g.Id]]++;
            foreach (var h in hyps) hypCount[hypIndex[h.Id]]++;
            ious.Add(iou);
        }
        var alignment = new double[nG, nH];
        for (int g = 0; g < nG; g++)
        for (int h = 0; h < nH; h++)
            alignment[g, h] = potential[g, h] / (gtCount[g] + hypCount[h] - potential[g, h]);

        // Pass 2: match each frame once, then count per α.
        int nA = Alphas.Count;
        var tp = new double[nA];
        var locSum = new double[nA];
        var matches = new double[nA, nG, nH];
        for (int f = 0; f < frames.Count; f++)
        {
            var (gts, hyps) = frames[f];
            if (gts.Count == 0 || hyps.Count == 0) continue;
            var iou = ious[f];
            var cost = new double[gts.Count, hyps.Count];
            for (int g = 0; g < gts.Count; g++)
            for (int h = 0; h < hyps.Count; h++)
                cost[g, h] = iou[g, h] >= Alphas[0] - Epsilon
                    ? -alignment[gtIndex[gts[g].Id], hypIndex[hyps[h].Id]] * iou[g, h]
                    : double.PositiveInfinity;
            foreach (var (g, h) in LinearAssignment.Solve(cost, 0).Matches)
            {
                int gi = gtIndex[gts[g].Id], hi = hypIndex[hyps[h].Id];
                for (int a = 0; a < nA; a++)
                {
                    if (iou[g, h] < Alphas[a] - Epsilon) break;   // alphas ascend
                    tp[a]++;
                    locSum[a] += iou[g, h];
                    matches[a, gi, hi]++;
                }
            }
        }

        double numGt = gtCount.Sum(), numHyp = hypCount.Sum();
        var hota = new double[nA];
        var detA = new double[nA];
        var assA = new double[nA];
        var locA = new double[nA];
        for (int a = 0; a < nA; a++)
        {
            double denominator = numGt + numHyp - tp[a];   // TP + FN + FP
            detA[a] = denominator > 0 ? tp[a] / denominator : 0;
            double sum = 0;
            for (int g = 0; g < nG; g++)
            for (int h = 0; h < nH; h++)
            {
                double m = matches[a, g, h];
                if (m > 0) sum += m * m / (gtCount[g] + hypCount[h] - m);
            }
            assA[a] = tp[a] > 0 ? sum / tp[a] : 0;
            locA[a] = tp[a] > 0 ? locSum[a] / tp[a] : 1;   // nothing localised, nothing badly (the authors' convention)
            hota[a] = Math.Sqrt(detA[a] * assA[a]);
        }
        return new HotaMetrics(hota.Average(), detA.Average(), assA.Average(), locA.Average(), hota, detA, assA);
    }
}
