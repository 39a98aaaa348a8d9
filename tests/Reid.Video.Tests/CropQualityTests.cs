using Reid.Imaging;
using Reid.TestSupport;
using Reid.Video.Decoding;
using Reid.Video.Quality;
using Xunit.Abstractions;

namespace Reid.Video.Tests;

/// <summary>Crops cut at the frame border, truncated, occluded or blurred are flagged; whole, clear people are not.</summary>
public class CropQualityTests(ITestOutputHelper output)
{
    private static readonly CropQualityRules Rules = new();

    private static CropQuality Measure(int self, params BoundingBox[] boxes) =>
        Rules.Measure(200, 100, boxes.Select(b => new Detection(b, 0.9f)).ToList(), self, Noise(20, 60, seed: self));

    [Fact]
    public void A_whole_standing_person_in_the_open_is_usable()
    {
        var q = Measure(0, new BoundingBox(50, 10, 20, 60));
        Assert.True(q.Usable, q.Reason);
        Assert.Equal(3.0, q.AspectRatio, 6);
        Assert.Equal(0, q.Occlusion);
    }

    [Theory]
    [InlineData(0, 10)]      // left edge
    [InlineData(180, 10)]    // right edge (180 + 20 = 200)
    [InlineData(50, 40)]     // bottom edge (40 + 60 = 100)
    [InlineData(-15, 10)]    // partly outside the frame
    public void A_box_touching_the_frame_edge_is_cut_at_the_border(float x, float y)
    {
        var q = Measure(0, new BoundingBox(x, y, 20, 60));
        Assert.Contains(CropFlaw.CutAtBorder, q.Flaws);
        Assert.Contains("cut at frame border", q.Reason);
    }

    [Theory]
    [InlineData(40, 40)]     // square: head and shoulders, or a seated person
    [InlineData(10, 80)]     // a sliver
    public void A_box_far_from_a_standing_persons_shape_is_a_truncated_body(float w, float h)
    {
        var q = Measure(0, new BoundingBox(60, 10, w, h));
        Assert.Equal([CropFlaw.Truncated], q.Flaws);
        Assert.Equal("truncated body", q.Reason);
    }

    [Fact]
    public void The_person_behind_is_occluded_and_the_one_in_front_is_not()
    {
        var behind = new BoundingBox(50, 10, 20, 60);   // feet at y = 70
        var front = new BoundingBox(58, 10, 20, 70);    // feet at y = 80: nearer the camera, covering 60% of the other
        var q = Measure(0, behind, front);
        Assert.Equal([CropFlaw.Occluded], q.Flaws);
        Assert.Equal(0.6, q.Occlusion, 6);
        Assert.True(Measure(1, behind, front).Usable);
        // a low-score box (the tracker's second-pass candidates) is not trusted to hide anyone
        var weak = Rules.Measure(200, 100, [new Detection(behind, 0.9f), new Detection(front, 0.15f)], 0, Noise(20, 60, 1));
        Assert.True(weak.Usable, weak.Reason);
    }

    [Fact]
    public void A_crop_much_blurrier_than_the_rest_of_its_track_is_blurred()
    {
        var obs = new TrackObservation(1, 0, new BoundingBox(50, 10, 20, 60), 0.9f, 0);
        var crops = Enumerable.Range(0, 4).Select(i => Noise(40, 120, i)).Append(BoxBlur(Noise(40, 120, 9), 3)).Select(image =>
            new TrackCrop(obs, image, Rules.Measure(200, 100, [new Detection(obs.Box, 0.9f)], 0, image))).ToList();
        Assert.All(crops, c => Assert.True(c.Usable));  // blur needs the track: nothing is flagged yet
        var judged = Rules.Judge(crops);
        Assert.All(judged.Take(4), c => Assert.True(c.Usable, c.Quality!.Reason));
        Assert.Equal([CropFlaw.Blurred], judged[4].Quality!.Flaws);
        Assert.True(judged[4].Quality!.RelativeSharpness < 0.5);
        // two crops are too few to say which is the blurred one
        Assert.All(Rules.Judge([crops[0], crops[4]]), c => Assert.True(c.Usable));
    }

    [Fact]
    public void Sharpness_does_not_depend_on_the_crops_size()
    {
        var small = Noise(20, 60, 3);
        var large = ImageResize.Bilinear(small, 80, 240);
        var (a, b) = (CropQualityRules.Sharpness(small), CropQualityRules.Sharpness(large));
        Assert.InRange(b / a, 0.5, 2.0);
    }

    [SharedFact]
    public void People_walking_into_the_shared_video_have_crops_cut_at_the_border_and_whole_crops_later()
    {
        using var extractor = new VideoPersonExtractor(VideoConfig.LoadDefault(), SharedData.YoloxNano);
        var run = extractor.ExtractDetailed(SharedData.Video, new FrameRange(1, 300), camera: null, progress: null, CancellationToken.None);
        Assert.NotEmpty(run.Tracks);
        foreach (var t in run.Tracks)
            output.WriteLine($"track {t.Id} frames {t.FirstFrame}-{t.LastFrame}: " + string.Join(" ", t.Crops.Select(c =>
                $"{c.Observation.Frame}:{(c.Usable ? "ok" : c.Quality!.Reason)}")));
        var crops = run.Tracks.SelectMany(t => t.Crops).ToList();
        Assert.All(crops, c => Assert.NotNull(c.Quality));
        var cut = crops.Where(c => c.Quality!.Flaws.Contains(CropFlaw.CutAtBorder)).ToList();
        Assert.NotEmpty(cut);
        Assert.All(cut, c => Assert.True(c.Observation.Box.X <= 2 || c.Observation.Box.Y <= 2 ||
                                         c.Observation.Box.Right >= run.Video.Width - 2 || c.Observation.Box.Bottom >= run.Video.Height - 2));
        // every person seen for a while has whole crops to enrol
        Assert.All(run.Tracks.Where(t => t.Crops.Count >= 8), t => Assert.Contains(t.Crops, c => c.Usable));
    }

    private static RgbImage Noise(int w, int h, int seed)
    {
        var rng = new Random(seed);
        var px = new byte[3 * w * h];
        rng.NextBytes(px);
        return new RgbImage(w, h, px);
    }

    private static RgbImage BoxBlur(RgbImage image, int radius)
    {
        var dst = new byte[image.Pixels.Length];
        for (var y = 0; y < image.Height; y++)
        for (var x = 0; x < image.Width; x++)
        for (var ch = 0; ch < 3; ch++)
        {
            int sum = 0, n = 0;
            for (var dy = -radius; dy <= radius; dy++)
            for (var dx = -radius; dx <= radius; dx++)
            {
                int xx = x + dx, yy = y + dy;
                if (xx < 0 || yy < 0 || xx >= image.Width || yy >= image.Height) continue;
                sum += image.Pixels[3 * (yy * image.Width + xx) + ch]; n++;
            }
            dst[3 * (y * image.Width + x) + ch] = (byte)(sum / n);
        }
        return new RgbImage(image.Width, image.Height, dst);
    }
}
