using Reid.Imaging;
using Reid.Video.Tracking;

namespace Reid.Video.Tests;

public class TrackStitcherTests
{
    private static float[] E(int axis, float tilt = 0)
    {
        var v = new float[4];
        v[axis] = 1;
        v[(axis + 1) % 4] = tilt;
        Embeddings.Normalise(v);
        return v;
    }

    /// <summary>A track at 10 fps over frames first..last, walking right 2 px a frame from x0, 40 px tall.</summary>
    private static PersonTrack T(int id, long first, long last, float x0, float[] e, int embeddings = 3)
    {
        var obs = new List<TrackObservation>();
        for (long f = first; f <= last; f++) obs.Add(new TrackObservation(f, (f - 1) / 10.0, new BoundingBox(x0 + 2 * (f - first), 50, 20, 40), 0.9f, 0));
        var crops = obs.Where((_, i) => i % 5 == 0).Select(o => new TrackCrop(o, RgbImage.Blank(2, 4))).ToList();
        return new PersonTrack(id, "c", obs, crops, e, embeddings);
    }

    private static readonly StitchingConfig Config = new() { Enabled = true };

    [Fact]
    public void Joins_a_lost_track_with_the_later_one_that_looks_alike_nearby()
    {
        // 1 is lost at frame 20 (x = 38); 2 starts 3 s later near there and looks alike → one person.
        // 3 looks alike too but starts before 1 ends; 4 looks different; 5 looks alike but appears 400 px away.
        var tracks = new[]
        {
            T(1, 1, 20, 0, E(0)), T(3, 10, 60, 300, E(0, 0.1f)), T(2, 50, 80, 60, E(0, 0.2f), embeddings: 1),
            T(4, 25, 45, 40, E(1)), T(5, 30, 40, 440, E(0)),
        };
        var stitched = TrackStitcher.Stitch(tracks, Config, maxCrops: 5);
        Assert.Equal(4, stitched.Count);
        Assert.Equal([1, 2, 3, 4], stitched.Select(t => t.Id));              // renumbered by first frame
        var joined = stitched[0];
        Assert.Equal(20 + 31, joined.Observations.Count);
        Assert.Equal((1L, 80L), (joined.FirstFrame, joined.LastFrame));
        Assert.Equal(4, joined.EmbeddingCount);
        Assert.Equal(5, joined.Crops.Count);                                  // 4 + 7 crops thinned to 5, spread out
        Assert.True(joined.Crops[^1].Observation.Frame > 20);
        Assert.Equal(1.0, Math.Sqrt(joined.Embedding.Sum(x => (double)x * x)), 5);
        Assert.True(Embeddings.CosineDistance(joined.Embedding, E(0)) < Embeddings.CosineDistance(joined.Embedding, E(0, 0.2f)),
            "the mean weighs the fragment with more embeddings more");
    }

    [Fact]
    public void Gaps_longer_than_allowed_stay_two_people_and_each_track_joins_once()
    {
        var late = TrackStitcher.Stitch([T(1, 1, 20, 0, E(0)), T(2, 100, 120, 40, E(0))], Config, 32);
        Assert.Equal(2, late.Count);

        // Two candidates follow track 1: only the more alike one joins it; the other stays alone.
        var two = TrackStitcher.Stitch([T(1, 1, 20, 0, E(0)), T(2, 30, 40, 45, E(0, 0.3f)), T(3, 31, 45, 40, E(0, 0.05f))], Config, 32);
        Assert.Equal(2, two.Count);
        Assert.Equal(20 + 15, two.Single(t => t.FirstFrame == 1).Observations.Count);
    }
}
