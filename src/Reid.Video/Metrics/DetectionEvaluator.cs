using Reid.Imaging;

namespace Reid.Video.Metrics;

/// <summary>
/// Person average precision at IoU 0.5 (PASCAL VOC all-point interpolation) over a sequence.
/// Ground truth with confidence 0 or a non-pedestrian class (MOT16/17 distractors) is "ignore": detections
/// matching it count neither as true nor as false positives.
/// </summary>
public static class DetectionEvaluator
{
    public sealed record Result(double AveragePrecision, int GroundTruth, int Detections, double RecallAtMaxDetections, double PrecisionAtMaxRecall);

    public static Result AveragePrecision50(IReadOnlyDictionary<long, List<Detection>> detectionsByFrame, IReadOnlyList<MotRow> groundTruth)
    {
        var gtByFrame = groundTruth.GroupBy(r => r.Frame).ToDictionary(g => g.Key, g => g.ToList());
        var scored = new List<(float Score, int Kind)>(); // kind: 1 TP, 0 FP, -1 ignored
        int positives = 0;
        foreach (var (frame, gts) in gtByFrame)
            positives += gts.Count(g => IsPositive(g));
        foreach (var (frame, dets) in detectionsByFrame)
        {
            var gts = gtByFrame.GetValueOrDefault(frame) ?? [];
            var taken = new bool[gts.Count];
            foreach (var d in dets.OrderByDescending(d => d.Score))
            {
                int best = -1;
                float bestIou = 0.5f;
                // prefer unmatched positives, then any ignore region
                for (int g = 0; g < gts.Count; g++)
                {
                    if (taken[g] || !IsPositive(gts[g])) continue;
                    float iou = BoundingBox.Iou(d.Box, gts[g].Box);
                    if (iou >= bestIou) { bestIou = iou; best = g; }
                }
                if (best >= 0) { taken[best] = true; scored.Add((d.Score, 1)); continue; }
                bool ignored = gts.Any(g => !IsPositive(g) && BoundingBox.Iou(d.Box, g.Box) >= 0.5f);
                scored.Add((d.Score, ignored ? -1 : 0));
            }
        }
        var ranked = scored.Where(s => s.Kind >= 0).OrderByDescending(s => s.Score).ToList();
        var precision = new double[ranked.Count];
        var recall = new double[ranked.Count];
        int tp = 0;
        for (int i = 0; i < ranked.Count; i++)
        {
            if (ranked[i].Kind == 1) tp++;
            precision[i] = (double)tp / (i + 1);
            recall[i] = positives == 0 ? 0 : (double)tp / positives;
        }
        // all-point interpolation: area under the monotone (max-to-the-right) precision envelope
        var envelope = new double[ranked.Count];
        for (int i = ranked.Count - 1; i >= 0; i--) envelope[i] = Math.Max(precision[i], i + 1 < ranked.Count ? envelope[i + 1] : 0);
        double ap = 0, prevRecall = 0;
        for (int i = 0; i < ranked.Count; i++)
        {
            if (ranked[i].Kind != 1) continue;
            ap += (recall[i] - prevRecall) * envelope[i];
            prevRecall = recall[i];
        }
        return new Result(ap, positives, ranked.Count, ranked.Count == 0 ? 0 : recall[^1], ranked.Count == 0 ? 0 : precision[^1]);
    }

    private static bool IsPositive(MotRow r) => r.Confidence != 0 && r.Class is -1 or 1;
}
