namespace Reid.SpatialTemporal;

/// <summary>
/// The joint score of ST-ReID (Wang et al., AAAI 2019): each evidence goes through a logistic function
/// f(x; λ, γ) = 1 / (1 + λ·e^(−γ·x)) before the two are multiplied, so that neither a near-zero travel-time
/// probability nor a poor appearance similarity alone can veto a match. s is the appearance similarity
/// (cosine), p the smoothed travel-time mass of the pair's bin. Defaults are the paper's λ0=1, γ0=5, λ1=2, γ1=5;
/// <see cref="FusionFitter"/> fits them on training identities.
/// </summary>
public sealed record FusionParameters(double Lambda0 = 1, double Gamma0 = 5, double Lambda1 = 2, double Gamma1 = 5)
{
    public static FusionParameters Paper { get; } = new();

    public double AppearanceFactor(double similarity) => 1 / (1 + Lambda0 * Math.Exp(-Gamma0 * similarity));
    public double SpatialTemporalFactor(double probability) => 1 / (1 + Lambda1 * Math.Exp(-Gamma1 * probability));
    public double Joint(double similarity, double probability) => AppearanceFactor(similarity) * SpatialTemporalFactor(probability);

    public void Validate()
    {
        foreach (var (name, v) in new[] { ("lambda0", Lambda0), ("gamma0", Gamma0), ("lambda1", Lambda1), ("gamma1", Gamma1) })
            if (!(v > 0) || !double.IsFinite(v))
                throw new Reid.Core.ReidException($"fusion parameter {name} must be a positive number, got {v}");
    }
}
