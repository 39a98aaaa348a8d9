using Reid.Core;
using Reid.SpatialTemporal;

namespace Reid.SpatialTemporal.Tests;

public class TravelTimeHistogramTests
{
    [Fact]
    public void Bins_are_centred_on_multiples_of_the_width()
    {
        var h = new TravelTimeHistogram("1", "2", binSeconds: 4, halfBins: 3);
        Assert.Equal(0, h.Bin(1.9));
        Assert.Equal(1, h.Bin(2.0));   // [2, 6) is bin 1
        Assert.Equal(-1, h.Bin(-2.0));
        Assert.Equal(3, h.Bin(13.9));
        Assert.Null(h.Bin(14.0));      // beyond ±3 bins
        Assert.Null(h.Bin(double.NaN));
    }

    [Fact]
    public void Parzen_smoothing_matches_hand_computed_gaussian_weights()
    {
        // One unit at Δ = 0, bins of 1 s, σ = 1 s: the kernel reaches 4σ = 4 bins, weights exp(−k²/2).
        var h = new TravelTimeHistogram("1", "2", binSeconds: 1, halfBins: 10);
        h.Add(0, 1);
        h.Smooth(1);
        var z = 1 + 2 * (Math.Exp(-0.5) + Math.Exp(-2) + Math.Exp(-4.5) + Math.Exp(-8));
        Assert.Equal(1 / z, h.Probability(0), 12);
        Assert.Equal(Math.Exp(-0.5) / z, h.Probability(1), 12);
        Assert.Equal(Math.Exp(-0.5) / z, h.Probability(-1), 12);
        Assert.Equal(Math.Exp(-8) / z, h.Probability(4), 12);
        Assert.Equal(0, h.Probability(5));       // outside the kernel's reach
        Assert.Equal(0, h.Probability(100));     // outside the window
        Assert.Equal(1, h.Masses.Sum(), 12);
    }

    [Fact]
    public void Smoothing_two_counts_adds_their_kernels_with_their_weights()
    {
        // 3 units at bin 0 and 1 unit at bin 2, bin 2 s, σ = 2 s (one bin): bin 1 gets 3·e^−½ + 1·e^−½.
        var h = new TravelTimeHistogram("a", "b", binSeconds: 2, halfBins: 20);
        h.Add(0, 3);
        h.Add(4, 1);
        h.Smooth(2);
        double K(int k) => Math.Exp(-k * k / 2.0);
        var z = 4 * (1 + 2 * (K(1) + K(2) + K(3) + K(4)));
        Assert.Equal((3 * K(1) + K(1)) / z, h.Probability(2), 12);
        Assert.Equal((3 * K(0) + K(2)) / z, h.Probability(0), 12);
        Assert.Equal((3 * K(2) + K(0)) / z, h.Probability(4), 12);
    }

    [Fact]
    public void Zero_sigma_only_normalises()
    {
        var h = new TravelTimeHistogram("1", "2", 4, 5);
        h.Add(0, 1); h.Add(8, 3);
        h.Smooth(0);
        Assert.Equal(0.25, h.Probability(0), 12);
        Assert.Equal(0.75, h.Probability(8), 12);
        Assert.Equal(0, h.Probability(4), 12);
    }

    [Fact]
    public void Bad_layouts_are_user_errors()
    {
        Assert.Throws<ReidException>(() => new TravelTimeHistogram("1", "2", 0, 5));
        Assert.Throws<ReidException>(() => new TravelTimeHistogram("1", "2", 4, 2, new double[3]));
        Assert.Throws<ReidException>(() => new TravelTimeHistogram("1", "2", 4, 1, [0, -1, 0]));
        var h = new TravelTimeHistogram("1", "2", 4, 1);
        Assert.Throws<ReidException>(() => h.Add(100, 1));
        Assert.Throws<ReidException>(() => h.Smooth(double.NaN));
    }
}
