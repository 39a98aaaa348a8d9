using Reid.Video.CrossCamera;
using Reid.Video.Tracking;
using Reid.Imaging;

namespace Reid.Video.Tests;

public class CrossCameraMatcherTests
{
    private static float[] E(int axis, float noise, int seed)
    {
        var rng = new Random(seed);
        var v = new float[8];
        v[axis] = 1;
        for (int i = 0; i < 8; i++) v[i] += noise * (float)(rng.NextDouble() - 0.5);
        Embeddings.Normalise(v);
        return v;
    }

    private static PersonTrack T(int id, double start, double end, float[] e) =>
        new(id, null, [new TrackObservation(1, start, new BoundingBox(0, 0, 1, 2), 1, 0), new TrackObservation(2, end, new BoundingBox(0, 0, 1, 2), 1, 0)], [], e, 1);

    [Fact]
    public void Links_the_same_people_across_cameras_and_names_known_ones()
    {
        var cam1 = new CameraTracks("c1", 0, [T(1, 0, 10, E(0, 0.1f, 1)), T(2, 5, 20, E(1, 0.1f, 2))]);
        var cam2 = new CameraTracks("c2", 100, [T(1, 0, 8, E(1, 0.1f, 3)), T(2, 3, 9, E(0, 0.1f, 4)), T(3, 4, 6, E(2, 0.1f, 5))]);
        var known = new[] { new KnownIdentity("alice", E(1, 0, 9)) };
        var ids = CrossCameraMatcher.Associate([cam1, cam2], known: known);
        Assert.Equal(3, ids.Count);
        var alice = Assert.Single(ids, g => g.Name == "alice");
        Assert.Equal([("c1", 2), ("c2", 1)], alice.Sightings.Select(s => (s.Camera, s.TrackId)));
        Assert.Equal(100, alice.Sightings[1].StartTime);
        Assert.Equal(2, ids.Count(g => g.IsNew));
        Assert.Contains(ids, g => g.Sightings.Select(s => (s.Camera, s.TrackId)).SequenceEqual([("c1", 1), ("c2", 2)]));
    }

    [Fact]
    public void Two_similar_tracks_overlapping_in_one_camera_stay_two_people()
    {
        var cam = new CameraTracks("c1", 0, [T(1, 0, 10, E(0, 0.05f, 1)), T(2, 5, 15, E(0, 0.05f, 2)), T(3, 20, 30, E(0, 0.05f, 3))]);
        var ids = CrossCameraMatcher.Associate([cam]);
        Assert.Equal(2, ids.Count); // track 3 (later) may join one of them, 1 and 2 never together
        Assert.DoesNotContain(ids, g => g.Sightings.Any(s => s.TrackId == 1) && g.Sightings.Any(s => s.TrackId == 2));
    }

    [Fact]
    public void A_spatial_temporal_veto_keeps_tracks_apart()
    {
        var cam1 = new CameraTracks("c1", 0, [T(1, 0, 10, E(0, 0.05f, 1))]);
        var cam2 = new CameraTracks("c2", 11, [T(1, 0, 10, E(0, 0.05f, 2))]);
        Assert.Single(CrossCameraMatcher.Associate([cam1, cam2]));
        Assert.Equal(2, CrossCameraMatcher.Associate([cam1, cam2], canBeSame: (a, b) => Math.Abs(a.StartTime - b.StartTime) > 60).Count);
    }
}
