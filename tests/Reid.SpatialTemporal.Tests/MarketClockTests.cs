using Reid.SpatialTemporal;
using Reid.TestSupport;

namespace Reid.SpatialTemporal.Tests;

public class MarketClockTests
{
    [Fact]
    public void Sequences_of_a_camera_follow_one_another_at_25_fps()
    {
        // Camera 1: sequence 1 runs to frame 2500 (100 s), sequence 2 to frame 5000; camera 2 has one sequence.
        var frames = new List<SequenceFrame>
        {
            new(1, "1", 1, 100), new(1, "1", 1, 2500), new(2, "1", 2, 5000), new(2, "1", 2, 50), new(3, "2", 1, 75),
        };
        var clock = MarketClock.Concatenated(frames);
        Assert.Equal(100 / 25.0, clock.Timestamp("1", 1, 100));
        Assert.Equal(100 + 50 / 25.0, clock.Timestamp("1", 2, 50));   // sequence 2 starts where sequence 1 ends
        Assert.Equal(3.0, clock.Timestamp("2", 1, 75));
        Assert.Null(clock.Timestamp("1", 3, 10));                     // never seen: unknown, not guessed
        Assert.Null(clock.Timestamp("9", 1, 10));
    }

    [Fact]
    public void A_recording_gap_is_found_from_people_seen_by_other_cameras()
    {
        // Cameras A and B record the same hour in two sequences each; camera B paused 1,000 s between its
        // sequences (its sequence 2 starts 1,000 s after its sequence 1 ended). People walk A → B in 30 s.
        var frames = new List<SequenceFrame>();
        var rng = new Random(7);
        const int fps = 25;
        for (var person = 0; person < 60; person++)
        {
            var t = rng.Next(0, 3000);                       // seconds on the true time line
            var aSeq = t < 1500 ? 1 : 2;
            frames.Add(new SequenceFrame(person, "A", aSeq, (t - (aSeq == 1 ? 0 : 1500)) * fps));
            var tb = t + 30;
            if (tb < 1500) frames.Add(new SequenceFrame(person, "B", 1, tb * fps));
            else if (tb >= 2500) frames.Add(new SequenceFrame(person, "B", 2, (tb - 2500) * fps));
        }
        frames.Add(new SequenceFrame(1000, "A", 1, 1500 * fps));   // sequence ends, known from the largest frame
        frames.Add(new SequenceFrame(1001, "B", 1, 1500 * fps));
        var clock = MarketClock.Learn(frames, new MarketClockOptions { MinLinks = 5 });
        var b2 = clock.Sequences.Single(s => s.Camera == "B" && s.Sequence == 2);
        Assert.InRange(b2.AlignmentSeconds, 990, 1010);
        Assert.InRange(b2.StartSeconds, 2490, 2510);
        Assert.Equal(0, clock.Sequences.Single(s => s.Camera == "A" && s.Sequence == 2).AlignmentSeconds);
    }

    [SharedFact]
    public void On_holdout_v1_training_identities_camera_6_paused_for_an_hour_and_other_starts_move_by_minutes_at_most()
    {
        var train = File.ReadLines(Path.Combine(SharedData.HoldoutV1, "train.txt")).Select(MarketNames.Parse).ToList();
        var clock = MarketClock.Learn(train);
        foreach (var s in clock.Sequences)
        {
            if (s.Sequence == 1) Assert.Equal(0, s.AlignmentSeconds);
            else if (s.Camera == "6") Assert.InRange(s.AlignmentSeconds, 3000, 3600);
            else Assert.InRange(s.AlignmentSeconds, 0, 600);
        }
        // Sequence 2 of camera 1 starts after sequence 1's last training frame (72,406 → 2,896.24 s), or later.
        Assert.True(clock.Timestamp("1", 2, 25)!.Value >= 2896.24 + 1);
    }
}

/// <summary>Test-side parsing of Market-1501 names (PPPP_cCsS_FFFFFF_BB.jpg).</summary>
internal static class MarketNames
{
    public static SequenceFrame Parse(string name)
    {
        var m = System.Text.RegularExpressions.Regex.Match(name, @"^(-?\d+)_c(\d)s(\d)_(\d{6})_\d\d");
        Assert.True(m.Success, name);
        return new SequenceFrame(int.Parse(m.Groups[1].Value), m.Groups[2].Value, int.Parse(m.Groups[3].Value), int.Parse(m.Groups[4].Value));
    }
}
