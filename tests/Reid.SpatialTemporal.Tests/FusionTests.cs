using Reid.SpatialTemporal;

namespace Reid.SpatialTemporal.Tests;

public class FusionTests
{
    [Fact]
    public void Joint_score_rises_with_appearance_and_with_travel_time_probability()
    {
        var f = new FusionParameters(1, 5, 2, 50);
        double last = 0;
        foreach (var s in new[] { -1.0, -0.2, 0, 0.3, 0.6, 0.9, 1 })
        {
            var j = f.Joint(s, 0.01);
            Assert.True(j > last);
            last = j;
        }
        last = 0;
        foreach (var p in new[] { 0.0, 0.0001, 0.001, 0.01, 0.05, 0.2 })
        {
            var j = f.Joint(0.5, p);
            Assert.True(j > last);
            last = j;
        }
    }

    [Fact]
    public void Logistic_factors_match_the_paper_formula()
    {
        var f = FusionParameters.Paper;  // λ0=1, γ0=5, λ1=2, γ1=5
        Assert.Equal(1 / (1 + Math.Exp(-5 * 0.7)) * (1 / (1 + 2 * Math.Exp(-5 * 0.02))), f.Joint(0.7, 0.02), 12);
        // Neither evidence can veto: a zero probability still leaves a third of the appearance factor.
        Assert.Equal(f.AppearanceFactor(0.7) / 3, f.Joint(0.7, 0), 12);
    }

    [Fact]
    public void Fused_distances_prefer_the_plausible_travel_time_when_appearance_ties()
    {
        var m = SpatialTemporalModelTests.Corridor(new FusionParameters(1, 5, 2, 200));
        // One query seen by camera 1 at t=0; gallery: camera 2 at 48 s (plausible) and at 900 s (implausible).
        var sims = new float[] { 0.6f, 0.6f, 0.62f };
        var fused = SpatialTemporalFusion.Fuse(m, sims, [new CameraTime("1", 0)], [new("2", 48), new("2", 900), new("2", 2000)]);
        Assert.True(fused.Values[0] < fused.Values[1]);
        Assert.True(fused.Values[0] < fused.Values[2]);
        Assert.Equal(3, fused.Report.Learned);
        Assert.Empty(fused.Report.Warnings);
    }

    [Fact]
    public void Without_time_or_camera_the_ranking_is_appearance_alone_and_a_warning_says_what_is_missing()
    {
        var m = SpatialTemporalModelTests.Corridor(new FusionParameters(1, 5, 2, 200));
        var sims = new float[] { 0.3f, 0.9f, 0.5f, 0.7f };
        CameraTime[] gallery = [new("2", 48), new("2", 900), new("2", 60), new("2", 2000)];
        foreach (var query in new CameraTime[] { new("1", null), new(null, 0), new(null, null) })
        {
            var fused = SpatialTemporalFusion.Fuse(m, sims, [query], gallery);
            var byAppearance = Enumerable.Range(0, 4).OrderByDescending(i => sims[i]).ToArray();
            var byFused = Enumerable.Range(0, 4).OrderBy(i => fused.Values[i]).ToArray();
            Assert.Equal(byAppearance, byFused);
            Assert.Equal(0, fused.Report.Learned);
            Assert.Contains(fused.Report.Warnings, w => w.Contains(query.Camera is null ? "no camera" : "no timestamp") && w.Contains("1 queries"));
            Assert.Contains(fused.Report.Warnings, w => w.Contains("appearance alone"));
        }
    }

    [Fact]
    public void Cameras_the_model_never_saw_are_named()
    {
        var m = SpatialTemporalModelTests.Corridor();
        var fused = SpatialTemporalFusion.Fuse(m, new float[] { 0.5f }, [new CameraTime("1", 0)], [new CameraTime("7", 10)]);
        Assert.Equal(1, fused.Report.Pairs[EvidenceKind.UnseenPair]);
        Assert.Contains(fused.Report.Warnings, w => w.Contains("camera(s) 7"));
    }
}
