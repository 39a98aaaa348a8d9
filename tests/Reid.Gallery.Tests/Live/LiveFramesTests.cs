using Reid.Gallery.Live;
using Reid.Imaging;
using Reid.Video.Decoding;
using Reid.Video.Output;
using Reid.Video.Tracking;

namespace Reid.Gallery.Tests.Live;

public class LiveFramesTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now = DateTimeOffset.Parse("2026-12-07T10:00:00Z");
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static VideoFrame Grey(long number)
    {
        var pixels = new byte[3 * 320 * 240];
        Array.Fill(pixels, (byte)128);
        return new VideoFrame(number, number / 10.0, new RgbImage(320, 240, pixels));
    }

    [Fact]
    public void Frames_are_annotated_on_request_and_encoded_at_most_once_per_interval()
    {
        var clock = new ManualClock();
        var frames = new LiveFrames(TimeSpan.FromSeconds(1), clock, jpegQuality: 95);
        Assert.Null(frames.Jpeg("cam1"));
        var first = Grey(1);
        var box = new BoundingBox(100, 60, 80, 150);
        frames.Offer("cam1", first, [new TrackedBox(7, box, true), new TrackedBox(8, new BoundingBox(10, 10, 30, 60), false)]);
        frames.Learn("cam1", 7, "person-0001");
        Assert.Equal(0, frames.Encodes("cam1"));   // nothing encoded until asked

        var jpeg = frames.Jpeg("cam1")!.Value.Jpeg;
        Assert.Equal(1, frames.Encodes("cam1"));
        var image = ImageCodec.Decode(jpeg, "frame.jpg");
        Assert.Equal((320, 240), (image.Width, image.Height));
        var (r, g, b) = FrameAnnotator.ColourOf(7);
        var p = 3 * (150 * 320 + 100);   // the box's left edge, half-way down
        Assert.True(Math.Abs(image.Pixels[p] - r) < 40 && Math.Abs(image.Pixels[p + 1] - g) < 40 && Math.Abs(image.Pixels[p + 2] - b) < 40,
            $"({image.Pixels[p]}, {image.Pixels[p + 1]}, {image.Pixels[p + 2]}) is not track 7's colour ({r}, {g}, {b})");
        // The unconfirmed track is not drawn; the frame handed over is not drawn on.
        var q = 3 * (40 * 320 + 10);
        Assert.InRange(image.Pixels[q], 110, 146);
        Assert.All(first.Image.Pixels, v => Assert.Equal(128, v));

        // Within the interval, a newer frame and more requests: the same JPEG, no new encode.
        clock.Now += TimeSpan.FromMilliseconds(500);
        frames.Offer("cam1", Grey(2), []);
        for (int i = 0; i < 5; i++) Assert.Same(jpeg, frames.Jpeg("cam1")!.Value.Jpeg);
        Assert.Equal(1, frames.Encodes("cam1"));
        // After it: the newer frame.
        clock.Now += TimeSpan.FromMilliseconds(600);
        Assert.NotSame(jpeg, frames.Jpeg("cam1")!.Value.Jpeg);
        Assert.Equal(2, frames.Encodes("cam1"));
        // No newer frame since: the last JPEG again, even after the interval.
        clock.Now += TimeSpan.FromSeconds(5);
        frames.Jpeg("cam1");
        Assert.Equal(2, frames.Encodes("cam1"));
        Assert.False(frames.Has("cam2"));
    }
}
