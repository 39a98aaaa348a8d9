using Reid.Core;
using Reid.Data;
using Reid.Evaluation;
using Reid.Video;
using Reid.TestSupport;
using static Reid.Gallery.Tests.Fixtures;

namespace Reid.Gallery.Tests;

/// <summary>Both ways of calibrating (labelled pairs, unlabelled video) store the threshold the gallery then decides with.</summary>
public class ThresholdCalibrationTests
{
    private static GalleryService Open(TempDir dir) =>
        new(GalleryStore.Open(dir.Path), HistogramModel(), new GalleryOptions(UncalibratedThreshold: 0.8));

    // person ids from 1: the Market-1501 protocol ignores 0 (distractors) and -1 (junk)
    private static EmbeddedImages Embedded(GalleryService g, int people, int shots, string camera, int firstShot) =>
        new(Enumerable.Range(1, people).SelectMany(p => Enumerable.Range(0, shots).Select(s => new ImageRecord($"{p}_{camera}_{s}.jpg", p, camera))).ToList(),
            g.Model.Embed(Enumerable.Range(1, people).SelectMany(p => Enumerable.Range(0, shots).Select(s => Person(p, firstShot + s))).ToList()),
            []);

    [Fact]
    public void A_labelled_split_sets_the_threshold_the_gallery_then_uses()
    {
        using var dir = new TempDir();
        var g = Open(dir);
        Assert.Equal(0.8, g.ResolveThreshold().Score, 6);
        var c = ThresholdCalibration.FromLabelled(g, Embedded(g, 6, 3, "c1", 0), Embedded(g, 6, 4, "c2", 100), 0.05, "synthetic-split", "test");
        var used = g.ResolveThreshold();
        Assert.Equal(c.Point.Threshold, used.Score, 6);
        Assert.Contains("on synthetic-split", used.Source);
        Assert.True(c.Point.Far <= 0.05, $"FAR {c.Point.Far}");
        Assert.True(c.Point.Tar > 0.5, $"TAR {c.Point.Tar}");
        Assert.Equal(6 * 3 * 4, c.Verification.Genuine.Length);
    }

    [Fact]
    public void A_video_of_people_seen_together_sets_it_and_a_thin_video_is_refused_without_touching_it()
    {
        using var dir = new TempDir();
        var g = Open(dir);
        // three people walking through the same 40 s together: every two are certainly different people
        var tracks = Enumerable.Range(0, 3).Select(p => Track(p + 1, p, 1, 400)).ToList();
        var r = ThresholdCalibration.FromVideo(g, [("street.mp4", tracks)], 0.1, "test");
        var used = g.ResolveThreshold();
        Assert.Equal(r.Point.Threshold, used.Score, 6);
        Assert.Contains("on video street.mp4 (3 pairs of people seen together", used.Source);

        // one person at a time proves nothing about strangers: refused, the stored threshold stays
        var alone = new List<PersonTrack> { Track(1, 0, 1, 100), Track(2, 1, 200, 300) };
        Assert.Throws<ReidException>(() => ThresholdCalibration.FromVideo(g, [("one-by-one.mp4", alone)], 0.1, "test"));
        Assert.Equal(used.Score, g.ResolveThreshold().Score, 6);
        Assert.Equal(used.Source, g.ResolveThreshold().Source);
    }

    /// <summary>Person <paramref name="person"/> tracked from frame <paramref name="first"/> to <paramref name="last"/> at 10 fps, a crop every 10 frames.</summary>
    private static PersonTrack Track(int id, int person, long first, long last)
    {
        var obs = Enumerable.Range(0, (int)(last - first + 1)).Select(i => first + i)
            .Select(f => new TrackObservation(f, f / 10.0, new Reid.Imaging.BoundingBox(10, 10, 64, 128), 0.9f, 0)).ToList();
        var crops = obs.Where(o => (o.Frame - first) % 10 == 0).Select((o, i) => new TrackCrop(o, Person(person, (int)o.Frame))).ToList();
        return new PersonTrack(id, "street", obs, crops, new float[64], 0);
    }
}
