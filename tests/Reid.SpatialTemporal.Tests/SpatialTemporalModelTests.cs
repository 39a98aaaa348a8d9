using Reid.Core;
using Reid.SpatialTemporal;
using Reid.TestSupport;

namespace Reid.SpatialTemporal.Tests;

public class SpatialTemporalModelTests
{
    /// <summary>Ten people walk from camera 1 to camera 2 in 40–58 s; nobody is ever seen in camera 3.</summary>
    internal static SpatialTemporalModel Corridor(FusionParameters? fusion = null)
    {
        var s = new List<LabelledSighting>();
        for (var p = 0; p < 10; p++)
        {
            var t0 = 1000.0 * p;
            s.Add(new(p, "1", t0));
            s.Add(new(p, "2", t0 + 40 + 2 * p));
        }
        s.Add(new(99, "3", 5));
        return SpatialTemporalModel.Learn(s, new SpatialTemporalOptions { BinSeconds = 4, SmoothingSeconds = 8 }, fusion: fusion);
    }

    [Fact]
    public void Learns_each_pair_as_a_signed_travel_time_distribution()
    {
        var m = Corridor();
        var h = Assert.Single(m.Pairs);
        Assert.Equal(("1", "2"), (h.From, h.To));
        Assert.Equal(10, h.TotalWeight, 9);
        var forward = m.Evidence(new("1", 0), new("2", 48));
        Assert.Equal(EvidenceKind.Learned, forward.Kind);
        // Order of the two sightings does not matter; the direction of travel does.
        Assert.Equal(forward.Probability, m.Evidence(new("2", 48), new("1", 0)).Probability);
        Assert.True(forward.Probability > 20 * m.Evidence(new("1", 48), new("2", 0)).Probability);
        Assert.True(forward.Probability > 20 * m.Evidence(new("1", 0), new("2", 400)).Probability);
    }

    [Fact]
    public void Each_person_weighs_one_however_many_images_they_have()
    {
        var s = new List<LabelledSighting> { new(1, "a", 0), new(1, "b", 100) };
        for (var i = 0; i < 9; i++) s.Add(new(2, "a", 5000 + i));
        s.Add(new(2, "b", 5000 + 500));
        var h = Assert.Single(SpatialTemporalModel.Learn(s).Pairs);
        Assert.Equal(2, h.TotalWeight, 9);
    }

    [Fact]
    public void Unseen_pairs_and_the_same_camera_get_the_uniform_probability()
    {
        var m = Corridor();
        var unseen = m.Evidence(new("1", 0), new("3", 40));
        Assert.Equal(EvidenceKind.UnseenPair, unseen.Kind);
        Assert.Equal(m.UniformProbability, unseen.Probability);
        var same = m.Evidence(new("1", 0), new("1", 40));
        Assert.Equal(EvidenceKind.SameCamera, same.Kind);
        Assert.Equal(m.UniformProbability, same.Probability);
        Assert.True(m.Evidence(new("1", 0), new("2", 48)).Probability > m.UniformProbability * 5);
    }

    [Fact]
    public void Missing_camera_or_time_is_named_and_falls_back_to_uniform()
    {
        var m = Corridor();
        Assert.Equal(EvidenceKind.MissingCamera, m.Evidence(new(null, 0), new("2", 48)).Kind);
        Assert.Equal(EvidenceKind.MissingTime, m.Evidence(new("1", null), new("2", 48)).Kind);
        Assert.Equal(EvidenceKind.MissingTime, m.Evidence(new("1", double.NaN), new("2", 48)).Kind);
    }

    [Fact]
    public void Saves_and_loads_the_same_model()
    {
        using var dir = new TempDir();
        var clock = new MarketClock(25, [new SequenceStart("1", 1, 0, 100, 0), new SequenceStart("1", 2, 3300, 50, 3200)]);
        var s = new List<LabelledSighting> { new(1, "1", 0), new(1, "2", 30), new(2, "1", 500), new(2, "2", 555), new(3, "3", 7) };
        var m = SpatialTemporalModel.Learn(s, new SpatialTemporalOptions { BinSeconds = 2, SmoothingSeconds = 10 }, clock, new FusionParameters(1, 6, 3, 40));
        var path = dir.File("st.json");
        m.Save(path);
        var back = SpatialTemporalModel.Load(path);
        Assert.Equal(m.Fusion, back.Fusion);
        Assert.Equal(m.HalfBins, back.HalfBins);
        Assert.Equal(m.Options, back.Options);
        foreach (var dt in new[] { -100.0, 0, 29, 30, 55, 80 })
            Assert.Equal(m.Evidence(new("1", 0), new("2", dt)).Probability, back.Evidence(new("1", 0), new("2", dt)).Probability, 12);
        Assert.Equal(3300 + 2.0, back.Clock!.Timestamp("1", 2, 50));
    }

    [Fact]
    public void Saves_in_snake_case()
    {
        using var dir = new TempDir();
        var path = dir.File("st.json");
        Corridor().Save(path);
        var text = File.ReadAllText(path);
        Assert.Contains("\"bin_seconds\"", text);
        Assert.Contains("\"half_bins\"", text);
        Assert.DoesNotContain("binSeconds", text);
    }

    // Written by `reid st learn` before the JSON naming policy became snake_case; such files must keep working.
    private const string CamelCaseModel = """
        { "format": "reid-spatial-temporal/1", "binSeconds": 2, "smoothingSeconds": 10, "halfBins": 40, "identities": 3,
          "fusion": { "lambda0": 1, "gamma0": 6, "lambda1": 3, "gamma1": 40 },
          "clock": { "framesPerSecond": 25, "sequences": [ { "camera": "1", "sequence": 2, "startSeconds": 3300, "lengthSeconds": 50, "alignmentSeconds": 3200 } ] },
          "pairs": [ { "from": "1", "to": "2", "bins": [ 15, 27 ], "weights": [ 1, 1 ] } ] }
        """;

    [Fact]
    public void Loads_a_model_saved_in_camel_case_and_saves_it_again_unchanged_in_meaning()
    {
        using var dir = new TempDir();
        var old = dir.File("old.json");
        File.WriteAllText(old, CamelCaseModel);
        var m = SpatialTemporalModel.Load(old);
        Assert.Equal(new SpatialTemporalOptions { BinSeconds = 2, SmoothingSeconds = 10 }, m.Options);
        Assert.Equal(40, m.HalfBins);
        Assert.Equal(3, m.Identities);
        Assert.Equal(new FusionParameters(1, 6, 3, 40), m.Fusion);
        Assert.Equal(3300 + 2.0, m.Clock!.Timestamp("1", 2, 50));
        Assert.Equal(EvidenceKind.Learned, m.Evidence(new("1", 0), new("2", 30)).Kind);
        Assert.True(m.Evidence(new("1", 0), new("2", 30)).Probability > m.Evidence(new("1", 0), new("2", -30)).Probability);

        var resaved = dir.File("new.json");
        m.Save(resaved);
        Assert.Contains("\"smoothing_seconds\"", File.ReadAllText(resaved));
        var back = SpatialTemporalModel.Load(resaved);
        Assert.Equal(m.Options, back.Options);
        Assert.Equal(m.Fusion, back.Fusion);
        foreach (var dt in new[] { -60.0, 0, 30, 54, 80 })
            Assert.Equal(m.Evidence(new("1", 0), new("2", dt)).Probability, back.Evidence(new("1", 0), new("2", dt)).Probability, 12);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[1,2]")]
    [InlineData("{\"format\":\"something-else\"}")]
    [InlineData("{\"format\":\"reid-spatial-temporal/1\",\"binSeconds\":0,\"halfBins\":3}")]
    [InlineData("{\"format\":\"reid-spatial-temporal/1\",\"binSeconds\":4,\"halfBins\":3,\"pairs\":[{\"from\":\"1\",\"to\":\"2\",\"bins\":[9],\"weights\":[1]}]}")]
    [InlineData("{\"format\":\"reid-spatial-temporal/1\",\"binSeconds\":4,\"halfBins\":3,\"pairs\":[{\"from\":\"1\",\"to\":\"2\",\"bins\":[1],\"weights\":[-1]}]}")]
    [InlineData("{\"format\":\"reid-spatial-temporal/1\",\"binSeconds\":4,\"halfBins\":3,\"fusion\":{\"lambda0\":-1,\"gamma0\":1,\"lambda1\":1,\"gamma1\":1}}")]
    [InlineData("{\"format\":\"reid-spatial-temporal/1\",\"binSeconds\":4,\"halfBins\":3,\"clock\":{\"framesPerSecond\":0}}")]
    [InlineData("{\"format\":\"reid-spatial-temporal/1\",\"bin_seconds\":0,\"half_bins\":3}")]
    [InlineData("{\"format\":\"reid-spatial-temporal/1\",\"bin_seconds\":4,\"half_bins\":3,\"clock\":{\"frames_per_second\":0}}")]
    public void Corrupt_model_files_are_user_errors_naming_the_file(string text)
    {
        using var dir = new TempDir();
        var path = dir.File("bad.json");
        File.WriteAllText(path, text);
        var e = Assert.Throws<ReidException>(() => SpatialTemporalModel.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void A_missing_model_file_is_a_user_error()
    {
        Assert.Throws<ReidException>(() => SpatialTemporalModel.Load("/nonexistent/st.json"));
    }
}
