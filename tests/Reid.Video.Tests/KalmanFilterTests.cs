using Reid.Video.Tracking;
using Reid.Imaging;

namespace Reid.Video.Tests;

public class KalmanFilterTests
{
    [Fact]
    public void Learns_a_constant_velocity_and_predicts_ahead()
    {
        var kf = new KalmanFilter();
        var s = kf.Initiate(new BoundingBox(100, 50, 40, 100));
        for (int t = 1; t <= 30; t++)
        {
            kf.Predict(s);
            kf.Update(s, new BoundingBox(100 + 3 * t, 50, 40, 100));
        }
        Assert.Equal(3.0, s.Mean[4], 1);   // vx
        Assert.Equal(0.0, s.Mean[5], 1);   // vy
        kf.Predict(s);
        Assert.Equal(100 + 3 * 31 + 20, s.Box.CenterX, 0); // centre of the box at t = 31
        Assert.Equal(100, s.Box.Height, 0);
        Assert.Equal(40, s.Box.Width, 0);
    }

    [Fact]
    public void Gating_distance_accepts_the_expected_box_and_rejects_a_far_one()
    {
        var kf = new KalmanFilter();
        var s = kf.Initiate(new BoundingBox(100, 50, 40, 100));
        for (int t = 1; t <= 10; t++) { kf.Predict(s); kf.Update(s, new BoundingBox(100 + 2 * t, 50, 40, 100)); }
        kf.Predict(s);
        double near = kf.GatingDistance(s, new BoundingBox(122, 50, 40, 100));
        double far = kf.GatingDistance(s, new BoundingBox(300, 50, 40, 100));
        Assert.True(near < KalmanFilter.Chi2Gate95, $"near {near}");
        Assert.True(far > KalmanFilter.Chi2Gate95 * 10, $"far {far}");
    }

    [Fact]
    public void Uncertainty_grows_while_coasting_and_shrinks_with_measurements()
    {
        var kf = new KalmanFilter();
        var s = kf.Initiate(new BoundingBox(0, 0, 50, 100));
        double before = s.Covariance[0, 0];
        kf.Predict(s);
        kf.Predict(s);
        double coasted = s.Covariance[0, 0];
        kf.Update(s, new BoundingBox(0, 0, 50, 100));
        Assert.True(coasted > before);
        Assert.True(s.Covariance[0, 0] < coasted);
    }
}
