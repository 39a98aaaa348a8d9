using Reid.Engine.Optim;

namespace Reid.Engine.Tests.Optim;

public class ScheduleTests
{
    [Fact]
    public void WarmupCosineRisesLinearlyThenFollowsHalfCosine()
    {
        var s = new WarmupCosineSchedule(WarmupSteps: 10, TotalSteps: 110, WarmupStartFactor: 0.1, MinFactor: 0.0);
        Assert.Equal(0.1, s.Factor(0), 12);
        Assert.Equal(0.55, s.Factor(5), 12);
        Assert.Equal(1.0, s.Factor(10), 12);
        Assert.Equal(0.5, s.Factor(60), 12);                          // half way: cos(π/2)
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI / 4)), s.Factor(35), 12);
        Assert.Equal(0.0, s.Factor(110), 12);
        Assert.Equal(0.0, s.Factor(500), 12);
    }

    [Fact]
    public void CosineFloorIsMinFactor()
    {
        var s = new WarmupCosineSchedule(0, 100, MinFactor: 0.01);
        Assert.Equal(1.0, s.Factor(0), 12);
        Assert.Equal(0.01, s.Factor(100), 12);
        Assert.Equal(0.01 + 0.99 * 0.5, s.Factor(50), 12);
    }

    [Fact]
    public void WarmupMultiStepDecaysByGammaAtEachMilestone()
    {
        var s = new WarmupMultiStepSchedule(WarmupSteps: 10, Milestones: [40, 70], Gamma: 0.1, WarmupStartFactor: 0.01);
        Assert.Equal(0.01, s.Factor(0), 12);
        Assert.Equal(0.01 + 0.99 * 0.5, s.Factor(5), 12);
        Assert.Equal(1.0, s.Factor(10), 12);
        Assert.Equal(1.0, s.Factor(39), 12);
        Assert.Equal(0.1, s.Factor(40), 12);
        Assert.Equal(0.01, s.Factor(70), 12);
        Assert.Equal(0.01, s.Factor(1000), 12);
    }

    [Fact]
    public void CosineRejectsTotalNotAfterWarmup() =>
        Assert.Throws<ArgumentException>(() => new WarmupCosineSchedule(10, 10).Factor(3));
}
