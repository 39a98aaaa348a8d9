using Reid.Core;

namespace Reid.SpatialTemporal;

/// <summary>
/// How long the same person takes from camera <see cref="From"/> to camera <see cref="To"/>: a histogram of the
/// signed time difference Δ = t(To) − t(From) in bins of <see cref="BinSeconds"/> centred on multiples of it
/// (bin i holds Δ in [(i − ½)·w, (i + ½)·w)), over [−K·w, K·w]. A negative Δ means the person was at To first,
/// so one signed histogram holds both directions of the pair and keeps which one people usually take.
/// <see cref="Counts"/> are the raw weights learned from training; <see cref="Smooth"/> turns them into
/// probability masses with a Gaussian (Parzen) window.
/// </summary>
public sealed class TravelTimeHistogram
{
    private double[]? _mass;

    public string From { get; }
    public string To { get; }
    public double BinSeconds { get; }
    public int HalfBins { get; }
    public double[] Counts { get; }
    public int BinCount => 2 * HalfBins + 1;
    public double TotalWeight => Counts.Sum();

    public TravelTimeHistogram(string from, string to, double binSeconds, int halfBins, double[]? counts = null)
    {
        if (!(binSeconds > 0) || !double.IsFinite(binSeconds)) throw new ReidException($"travel-time histogram {from}->{to}: bin width must be positive, got {binSeconds}");
        if (halfBins < 0 || halfBins > 10_000_000) throw new ReidException($"travel-time histogram {from}->{to}: {halfBins} half-bins is out of range");
        From = from; To = to; BinSeconds = binSeconds; HalfBins = halfBins;
        Counts = counts ?? new double[2 * halfBins + 1];
        if (Counts.Length != BinCount) throw new ReidException($"travel-time histogram {from}->{to}: {Counts.Length} counts for {BinCount} bins");
        if (Counts.Any(c => !(c >= 0) || !double.IsFinite(c))) throw new ReidException($"travel-time histogram {from}->{to}: counts must be finite and non-negative");
    }

    /// <summary>The bin of a time difference, or null outside the histogram's window.</summary>
    public int? Bin(double deltaSeconds)
    {
        if (!double.IsFinite(deltaSeconds)) return null;
        var i = Math.Round(deltaSeconds / BinSeconds, MidpointRounding.AwayFromZero);
        return Math.Abs(i) <= HalfBins ? (int)i : null;
    }

    public void Add(double deltaSeconds, double weight)
    {
        var bin = Bin(deltaSeconds) ?? throw new ReidException($"travel-time histogram {From}->{To}: Δ={deltaSeconds}s lies outside ±{HalfBins * BinSeconds}s");
        Counts[bin + HalfBins] += weight;
        _mass = null;
    }

    /// <summary>
    /// Parzen smoothing: each count spreads over its neighbours with weights exp(−(k·w)²/(2σ²)), cut at 4σ
    /// (beyond it the weight is below 0.04% of the centre's), then the masses are scaled to sum to one over the
    /// window. σ = 0 leaves the histogram as it is (only normalised).
    /// </summary>
    public void Smooth(double sigmaSeconds)
    {
        if (!(sigmaSeconds >= 0) || !double.IsFinite(sigmaSeconds)) throw new ReidException($"smoothing σ must be finite and non-negative, got {sigmaSeconds}");
        var n = BinCount;
        var mass = new double[n];
        var reach = sigmaSeconds == 0 ? 0 : (int)Math.Ceiling(4 * sigmaSeconds / BinSeconds);
        var kernel = new double[reach + 1];
        for (var k = 0; k <= reach; k++)
            kernel[k] = reach == 0 ? 1 : Math.Exp(-(k * BinSeconds) * (k * BinSeconds) / (2 * sigmaSeconds * sigmaSeconds));
        for (var i = 0; i < n; i++)
        {
            var c = Counts[i];
            if (c == 0) continue;
            var lo = Math.Max(0, i - reach);
            var hi = Math.Min(n - 1, i + reach);
            for (var j = lo; j <= hi; j++) mass[j] += c * kernel[Math.Abs(j - i)];
        }
        var total = mass.Sum();
        if (total > 0) for (var i = 0; i < n; i++) mass[i] /= total;
        _mass = mass;
    }

    /// <summary>The smoothed probability mass of the bin holding Δ; zero outside the window.</summary>
    public double Probability(double deltaSeconds)
    {
        var mass = _mass ?? throw new InvalidOperationException($"travel-time histogram {From}->{To} was not smoothed");
        return Bin(deltaSeconds) is { } b ? mass[b + HalfBins] : 0;
    }

    /// <summary>The smoothed masses, bin −K first.</summary>
    public IReadOnlyList<double> Masses => _mass ?? throw new InvalidOperationException($"travel-time histogram {From}->{To} was not smoothed");
}
