using Reid.Video.Tracking;
using Reid.Imaging;

namespace Reid.Video.Tests;

public class TrackerTests
{
    private static Detection D(float x, float y, float score = 0.9f) => new(new BoundingBox(x, y, 40, 100), score);

    private static float[] Unit(int dim, int axis, float noise = 0, int seed = 0)
    {
        var rng = new Random(seed);
        var v = new float[dim];
        v[axis] = 1;
        for (int i = 0; i < dim; i++) v[i] += noise * (float)(rng.NextDouble() - 0.5);
        Embeddings.Normalise(v);
        return v;
    }

    /// <summary>Runs frames of (detection, identity) pairs; identity picks the embedding axis.</summary>
    private static List<Dictionary<int, int>> Run(Tracker tracker, IEnumerable<(Detection Det, int Person)[]> frames, List<int>? embedCalls = null)
    {
        var history = new List<Dictionary<int, int>>(); // per frame: person -> confirmed track id
        int f = 0;
        foreach (var frame in frames)
        {
            f++;
            var dets = frame.Select(x => x.Det).ToList();
            var assigned = tracker.Update(dets, idx =>
            {
                embedCalls?.Add(idx.Count);
                return idx.Select(i => Unit(16, frame[i].Person, 0.2f, seed: f * 31 + i)).ToArray();
            });
            history.Add(assigned.Where(a => a.Track.State == TrackState.Confirmed)
                .ToDictionary(a => frame[a.DetectionIndex].Person, a => a.Track.Id));
        }
        return history;
    }

    [Fact]
    public void A_person_walking_towards_the_camera_keeps_one_track_while_the_box_grows_faster_than_the_kalman_gate()
    {
        // boxes from the shared video (person entering at 10 fps): slow at first, then height +10 % and a narrowing
        // width each frame, with the embedding of an entering person's partial views changing too
        var tracker = new Tracker(new TrackerConfig(), 10);
        var boxes = new List<BoundingBox>();
        for (int t = 0; t < 8; t++) boxes.Add(new BoundingBox(200 + 3 * t, 160 - 2 * t, 200, 200 + 4 * t));
        for (int t = 0; t < 6; t++)
        {
            var last = boxes[^1];
            boxes.Add(new BoundingBox(last.X + 18, last.Y - 18, last.Width * 0.9f, last.Height * 1.1f));
        }
        var ids = new HashSet<int>();
        for (int f = 0; f < boxes.Count; f++)
        {
            var axis = f < 8 ? 0 : 1;   // looks different once close: an appearance gate alone would split the track
            var assigned = tracker.Update([new Detection(boxes[f], 0.9f)], idx => idx.Select(_ => Unit(16, axis)).ToArray());
            foreach (var a in assigned) ids.Add(a.Track.Id);
        }
        Assert.Single(ids);
    }

    [Fact]
    public void Two_people_walking_apart_keep_two_stable_ids()
    {
        var tracker = new Tracker(new TrackerConfig(), 25);
        var frames = Enumerable.Range(0, 40).Select(t => new[] { (D(50 + 3 * t, 100), 0), (D(500 - 2 * t, 120), 1) });
        var h = Run(tracker, frames);
        Assert.Empty(h[0]); // tentative at first
        var ids = h.Skip(2).Select(x => (x[0], x[1])).Distinct().ToList();
        Assert.Single(ids);
        Assert.NotEqual(ids[0].Item1, ids[0].Item2);
    }

    [Fact]
    public void A_single_false_positive_never_becomes_a_track()
    {
        var tracker = new Tracker(new TrackerConfig(), 25);
        var frames = Enumerable.Range(0, 10).Select(t => t == 5
            ? new[] { (D(50 + 3 * t, 100), 0), (D(400, 300), 1) }
            : new[] { (D(50 + 3 * t, 100), 0) });
        var h = Run(tracker, frames);
        Assert.All(h, x => Assert.False(x.ContainsKey(1)));
        Assert.Single(tracker.Tracks);
    }

    [Fact]
    public void Low_score_detections_keep_an_occluded_track_alive()
    {
        var config = new TrackerConfig { MaxLostSeconds = 0 };
        var tracker = new Tracker(config, 25);
        // Frames 10-14: the person is half hidden and detected with a low score only.
        var frames = Enumerable.Range(0, 20).Select(t => new[] { (D(50 + 3 * t, 100, t is >= 10 and < 15 ? 0.3f : 0.9f), 0) });
        var h = Run(tracker, frames);
        Assert.All(h.Skip(2), x => Assert.True(x.ContainsKey(0)));
        Assert.Single(h.Skip(2).Select(x => x[0]).Distinct());
    }

    [Fact]
    public void Lost_tracks_are_deleted_after_the_maximum_age()
    {
        var tracker = new Tracker(new TrackerConfig { MaxLostSeconds = 0.2 }, 25); // 5 frames
        var frames = Enumerable.Range(0, 5).Select(t => new[] { (D(50 + 3 * t, 100), 0) })
            .Concat(Enumerable.Range(0, 5).Select(_ => Array.Empty<(Detection, int)>()));
        Run(tracker, frames);
        Assert.Equal(TrackState.Lost, Assert.Single(tracker.Tracks).State);
        tracker.Update([]);
        Assert.Empty(tracker.Tracks);
    }

    /// <summary>
    /// A person stands still, disappears for 20 frames, then reappears 150 px away while another person
    /// appears where the first one vanished. Appearance re-links the first person's id; motion alone cannot.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Appearance_re_identifies_a_person_after_an_occlusion(bool useAppearance)
    {
        var tracker = new Tracker(new TrackerConfig { UseAppearance = useAppearance, MaxLostSeconds = 2 }, 25);
        var before = Enumerable.Range(0, 10).Select(t => new[] { (D(100 + 2 * t, 100), 0) });
        var gap = Enumerable.Range(0, 20).Select(_ => Array.Empty<(Detection, int)>());
        var after = Enumerable.Range(0, 10).Select(t => new[] { (D(270 + 2 * t, 100), 0), (D(160, 100), 1) });
        var h = Run(tracker, before.Concat(gap).Concat(after));
        int first = h[5][0];
        int later = h[^1][0];
        if (useAppearance)
        {
            Assert.Equal(first, later);
            Assert.NotEqual(first, h[^1][1]);
        }
        else Assert.NotEqual(first, later);
    }

    [Fact]
    public void A_lone_walker_is_embedded_about_once_a_second_not_every_frame()
    {
        var tracker = new Tracker(new TrackerConfig { ReembedSeconds = 1 }, 25);
        var calls = new List<int>();
        var frames = Enumerable.Range(0, 100).Select(t => new[] { (D(50 + 2 * t, 100), 0) });
        Run(tracker, frames, calls);
        // 3 frames to confirm, then once per 25 frames
        Assert.InRange(tracker.EmbeddingsComputed, 4, 9);
    }

    [Fact]
    public void People_crossing_keep_their_ids_with_appearance()
    {
        var tracker = new Tracker(new TrackerConfig(), 25);
        // Two people walk towards each other on the same line and cross at t = 25.
        var frames = Enumerable.Range(0, 50).Select(t => new[] { (D(100 + 8 * t, 100), 0), (D(500 - 8 * t, 104), 1) });
        var h = Run(tracker, frames);
        var firstIds = h[5];
        foreach (var x in h.Skip(30))
            foreach (var (person, id) in x) Assert.Equal(firstIds[person], id);
    }

    [Fact]
    public void Bad_config_is_a_clear_error()
    {
        Assert.Throws<Core.ReidException>(() => new Tracker(new TrackerConfig { LowScore = 0.8f, HighScore = 0.5f }, 25));
    }
}
