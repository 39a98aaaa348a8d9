using Reid.Video.Tracking;
using Reid.Imaging;

namespace Reid.Video.Metrics;

/// <summary>CLEAR MOT and identity figures of one sequence.</summary>
public sealed record MotMetrics(
    double Mota, double Motp, double Idf1, double Idp, double Idr, int IdSwitches,
    int GroundTruth, int Hypotheses, int TruePositives, int FalsePositives, int FalseNegatives,
    int Fragmentations, int GroundTruthIds, int HypothesisIds,
    int MostlyTracked, int MostlyLost);

/// <summary>
/// Scores tracker output against MOTChallenge ground truth, following the conventions of the reference
/// tools (py-motmetrics / the MOTChallenge devkit): a hypothesis matches a ground-truth box when IoU ≥ 0.5;
/// in each frame correspondences from the previous frame are kept while still valid, the rest are found
/// with a minimum-cost assignment on 1 − IoU; an ID switch is a ground-truth object matched to a different
/// hypothesis id than the one it was last matched to. IDF1 comes from the best one-to-one mapping of
/// ground-truth ids to hypothesis ids over the whole sequence (Ristani et al. 2016).
/// Ground truth with confidence 0 is ignored; in MOT16/17 ground truth, hypotheses that match a
/// non-pedestrian class (distractors, static persons, reflections…) are removed before scoring.
/// </summary>
public static class MotEvaluator
{
    public const float IouThreshold = 0.5f;

    public static MotMetrics Evaluate(IReadOnlyList<MotRow> groundTruth, IReadOnlyList<MotRow> hypotheses)
    {
        int numGt = 0, numHyp = 0, tp = 0, fp = 0, fn = 0, idsw = 0, frag = 0;
        double iouSum = 0;
        var lastMatch = new Dictionary<int, int>();        // gt id -> hyp id it was last matched to
        var matchedPrev = new Dictionary<int, int>();      // gt id -> hyp id matched in the previous frame
        var wasTracked = new Dictionary<int, bool>();      // gt id -> matched the last time it was present
        var pairCounts = new Dictionary<(int Gt, int Hyp), int>();
        var gtFrames = new Dictionary<int, int>();
        var gtTrackedFrames = new Dictionary<int, int>();
        var hypIds = new HashSet<int>();

        foreach (var (gts, hyps) in ScoredFrames(groundTruth, hypotheses))
        {
            numGt += gts.Count;
            numHyp += hyps.Count;
            foreach (var h in hyps) hypIds.Add(h.Id);
            foreach (var g in gts) gtFrames[g.Id] = gtFrames.GetValueOrDefault(g.Id) + 1;

            var matchOfGt = new int[gts.Count];
            Array.Fill(matchOfGt, -1);
            var hypTaken = new bool[hyps.Count];
            // 1. keep last frame's correspondences while their IoU is still valid
            for (int gi = 0; gi < gts.Count; gi++)
            {
                if (!matchedPrev.TryGetValue(gts[gi].Id, out var prevHyp)) continue;
                int hi = hyps.FindIndex(h => h.Id == prevHyp);
                if (hi < 0 || hypTaken[hi]) continue;
                if (BoundingBox.Iou(gts[gi].Box, hyps[hi].Box) >= IouThreshold) { matchOfGt[gi] = hi; hypTaken[hi] = true; }
            }
            // 2. assign the rest by minimum total 1 - IoU
            var freeG = Enumerable.Range(0, gts.Count).Where(i => matchOfGt[i] < 0).ToList();
            var freeH = Enumerable.Range(0, hyps.Count).Where(i => !hypTaken[i]).ToList();
            if (freeG.Count > 0 && freeH.Count > 0)
            {
                var cost = new double[freeG.Count, freeH.Count];
                for (int a = 0; a < freeG.Count; a++)
                for (int b = 0; b < freeH.Count; b++)
                {
                    float iou = BoundingBox.Iou(gts[freeG[a]].Box, hyps[freeH[b]].Box);
                    cost[a, b] = iou >= IouThreshold ? 1 - iou : double.PositiveInfinity;
                }
                foreach (var (r, c) in LinearAssignment.Solve(cost, 1.0).Matches)
                {
                    matchOfGt[freeG[r]] = freeH[c];
                    hypTaken[freeH[c]] = true;
                }
            }

            var nowMatched = new Dictionary<int, int>();
            for (int gi = 0; gi < gts.Count; gi++)
            {
                int gid = gts[gi].Id;
                int hi = matchOfGt[gi];
                bool tracked = hi >= 0;
                if (tracked)
                {
                    int hid = hyps[hi].Id;
                    tp++;
                    iouSum += BoundingBox.Iou(gts[gi].Box, hyps[hi].Box);
                    if (lastMatch.TryGetValue(gid, out var last) && last != hid) idsw++;
                    lastMatch[gid] = hid;
                    nowMatched[gid] = hid;
                    gtTrackedFrames[gid] = gtTrackedFrames.GetValueOrDefault(gid) + 1;
                    if (wasTracked.TryGetValue(gid, out var prevTracked) && !prevTracked) frag++;
                }
                else fn++;
                wasTracked[gid] = tracked;
            }
            fp += hypTaken.Count(t => !t);
            matchedPrev = nowMatched;

            // identity co-occurrences for IDF1: every gt/hyp pair with IoU >= 0.5 in this frame
            for (int gi = 0; gi < gts.Count; gi++)
            for (int hi = 0; hi < hyps.Count; hi++)
                if (BoundingBox.Iou(gts[gi].Box, hyps[hi].Box) >= IouThreshold)
                {
                    var key = (gts[gi].Id, hyps[hi].Id);
                    pairCounts[key] = pairCounts.GetValueOrDefault(key) + 1;
                }
        }

        int idtp = IdentityTruePositives(pairCounts);
        double idp = numHyp == 0 ? 0 : (double)idtp / numHyp;
        double idr = numGt == 0 ? 0 : (double)idtp / numGt;
        double idf1 = numGt + numHyp == 0 ? 0 : 2.0 * idtp / (numGt + numHyp);
        double mota = numGt == 0 ? 0 : 1.0 - (double)(fn + fp + idsw) / numGt;
        double motp = tp == 0 ? 0 : iouSum / tp;
        int mt = gtFrames.Count(kv => gtTrackedFrames.GetValueOrDefault(kv.Key) >= 0.8 * kv.Value);
        int ml = gtFrames.Count(kv => gtTrackedFrames.GetValueOrDefault(kv.Key) < 0.2 * kv.Value);
        return new MotMetrics(mota, motp, idf1, idp, idr, idsw, numGt, numHyp, tp, fp, fn, frag,
            gtFrames.Count, hypIds.Count, mt, ml);
    }

    /// <summary>
    /// The frames to score, in order, each with its pedestrian ground truth and the hypotheses left once those
    /// matching a non-pedestrian ground-truth box (distractor classes of MOT16/17) are removed.
    /// </summary>
    internal static List<(List<MotRow> Gt, List<MotRow> Hyps)> ScoredFrames(IReadOnlyList<MotRow> groundTruth, IReadOnlyList<MotRow> hypotheses)
    {
        var gtByFrame = groundTruth.Where(r => r.Confidence != 0).GroupBy(r => r.Frame).ToDictionary(g => g.Key, g => g.ToList());
        var hypByFrame = hypotheses.GroupBy(r => r.Frame).ToDictionary(g => g.Key, g => g.ToList());
        var result = new List<(List<MotRow>, List<MotRow>)>();
        foreach (var frame in gtByFrame.Keys.Union(hypByFrame.Keys).Order())
        {
            var allGt = gtByFrame.GetValueOrDefault(frame) ?? [];
            var hyps = hypByFrame.GetValueOrDefault(frame) ?? [];
            var gts = allGt.Where(IsPedestrian).ToList();
            var distractors = allGt.Where(g => !IsPedestrian(g)).ToList();
            if (distractors.Count > 0) hyps = RemoveMatchingDistractors(hyps, gts, distractors);
            result.Add((gts, hyps));
        }
        return result;
    }

    // MOT16/17 class 1 is "pedestrian"; -1 means the file has no class column (MOT15 style).
    private static bool IsPedestrian(MotRow r) => r.Class is -1 or 1;

    private static List<MotRow> RemoveMatchingDistractors(List<MotRow> hyps, List<MotRow> gts, List<MotRow> distractors)
    {
        // Match hypotheses to all ground truth at once; those taken by a non-pedestrian box are dropped.
        var all = gts.Concat(distractors).ToList();
        var cost = new double[all.Count, hyps.Count];
        for (int g = 0; g < all.Count; g++)
        for (int h = 0; h < hyps.Count; h++)
        {
            float iou = BoundingBox.Iou(all[g].Box, hyps[h].Box);
            cost[g, h] = iou >= IouThreshold ? 1 - iou : double.PositiveInfinity;
        }
        var drop = new HashSet<int>();
        foreach (var (g, h) in LinearAssignment.Solve(cost, 1.0).Matches)
            if (g >= gts.Count) drop.Add(h);
        return hyps.Where((_, i) => !drop.Contains(i)).ToList();
    }

    private static int IdentityTruePositives(Dictionary<(int Gt, int Hyp), int> pairCounts)
    {
        if (pairCounts.Count == 0) return 0;
        var gtIds = pairCounts.Keys.Select(k => k.Gt).Distinct().ToList();
        var hypIds = pairCounts.Keys.Select(k => k.Hyp).Distinct().ToList();
        var gi = gtIds.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i);
        var hi = hypIds.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i);
        int max = pairCounts.Values.Max();
        var cost = new double[gtIds.Count, hypIds.Count];
        for (int a = 0; a < gtIds.Count; a++)
        for (int b = 0; b < hypIds.Count; b++) cost[a, b] = max; // no co-occurrence: worth nothing
        foreach (var ((g, h), n) in pairCounts) cost[gi[g], hi[h]] = max - n;
        int idtp = 0;
        foreach (var (r, c) in LinearAssignment.Solve(cost, max).Matches)
            idtp += pairCounts.GetValueOrDefault((gtIds[r], hypIds[c]));
        return idtp;
    }
}
