using Reid.SpatialTemporal;

namespace Reid.Video.CrossCamera;

/// <summary>
/// A veto for <see cref="CrossCameraMatcher"/> from a learned travel-time model: two tracks of different
/// cameras cannot be one person when the model has learned that camera pair and every way of measuring the
/// gap between them (start–start, end–end, the earlier's end to the later's start) falls where its
/// travel-time probability is below <paramref name="minRatio"/> × the uniform probability. Pairs the model
/// has not learned, and one camera with itself, are never vetoed: no evidence is not evidence against.
/// </summary>
public static class SpatialTemporalGate
{
    public const double DefaultMinRatio = 0.05;

    public static Func<TrackSighting, TrackSighting, bool> CanBeSame(SpatialTemporalModel model, double minRatio = DefaultMinRatio)
    {
        double floor = minRatio * model.UniformProbability;
        return (a, b) =>
        {
            if (a.Camera == b.Camera) return true;
            var (first, second) = a.StartTime <= b.StartTime ? (a, b) : (b, a);
            var gaps = new[]
            {
                (first.StartTime, second.StartTime),
                (first.EndTime, second.EndTime),
                (first.EndTime, second.StartTime),
            };
            foreach (var (t1, t2) in gaps)
            {
                var e = model.Evidence(new CameraTime(first.Camera, t1), new CameraTime(second.Camera, t2));
                if (!e.IsLearned || e.Probability >= floor) return true;
            }
            return false;
        };
    }
}
