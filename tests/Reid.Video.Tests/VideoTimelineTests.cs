using Reid.Core;
using Reid.Imaging;
using Reid.TestSupport;
using Reid.Video.Decoding;

namespace Reid.Video.Tests;

/// <summary>A video's timeline: ffprobe's facts, thumbnails numbered like the decoder's frames, ranges in frames or seconds.</summary>
public class VideoTimelineTests
{
    [SharedFact]
    public void The_shared_video_probes_as_768x432_at_10_fps_for_1394_frames_or_139_4_seconds()
    {
        var info = FfmpegVideoSource.Probe(SharedData.Video);
        Assert.Equal((768, 432), (info.Width, info.Height));
        Assert.Equal(10, info.FramesPerSecond, 6);
        Assert.Equal(1394, info.FrameCount);
        Assert.Equal(139.4, info.Duration!.Value, 6);
        // frame 1 is at 0 s; the last frame at (1394 - 1) / 10
        Assert.Equal(0, info.TimeOf(1));
        Assert.Equal(139.3, info.TimeOf(1394), 6);
        Assert.Equal(601, info.FrameAt(60.0));
        Assert.Equal(600, info.FrameAt(59.99));
    }

    [SharedFact]
    public void The_shared_videos_thumbnails_are_evenly_spaced_small_jpegs()
    {
        var info = FfmpegVideoSource.Probe(SharedData.Video);
        var strip = VideoThumbnails.Extract(info, 10, 72);
        // the middle frame of each tenth of 1394 frames
        Assert.Equal([70L, 210, 349, 488, 628, 767, 907, 1046, 1185, 1325], strip.Select(t => t.Frame));
        foreach (var t in strip)
        {
            Assert.Equal(info.TimeOf(t.Frame), t.Time, 9);
            var image = ImageCodec.Decode(t.Jpeg, $"thumbnail {t.Frame}");
            Assert.Equal((128, 72), (image.Width, image.Height));
        }
    }

    [Fact]
    public void A_thumbnail_shows_the_frame_the_decoder_numbers_alike()
    {
        using var v = new TinyVideo(30);
        List<VideoFrame> all;
        using (var src = new FfmpegVideoSource(v.Path)) all = src.ReadFrames().ToList();
        var info = FfmpegVideoSource.Probe(v.Path);
        var strip = VideoThumbnails.Extract(info, 5, 48);
        Assert.Equal([4L, 10, 16, 22, 28], strip.Select(t => t.Frame));
        foreach (var t in strip)
        {
            // testsrc changes every frame: the decoded frame with the same number is the closest of its neighbours
            var thumb = VideoThumbnails.Decode(info, t.Frame, 64, 48);
            var distances = new[] { t.Frame - 1, t.Frame, t.Frame + 1 }.Select(n => MeanAbsDiff(thumb, all[(int)n - 1].Image)).ToArray();
            Assert.True(distances[1] < distances[0] && distances[1] < distances[2], $"frame {t.Frame}: {string.Join(", ", distances)}");
            Assert.True(distances[1] < 4, $"frame {t.Frame} differs by {distances[1]} grey levels on average");
        }
    }

    [Fact]
    public void A_range_in_seconds_becomes_frames_with_frame_1_at_0_s()
    {
        var info = new VideoInfo("v.mp4", 64, 48, 10, 30);
        Assert.Equal(3.0, info.Duration);
        Assert.Equal(new FrameRange(1, 11), new RangeRequest(FromSeconds: 0, ToSeconds: 1.0).Resolve(info));
        Assert.Equal(new FrameRange(6, 30), new RangeRequest(FromSeconds: 0.55, ToSeconds: 3.0).Resolve(info)); // the end of the video is its last frame
        Assert.Equal(new FrameRange(5, 30), new RangeRequest(5, 30).Resolve(info));
        Assert.Equal(new FrameRange(), new RangeRequest().Resolve(info));
    }

    [Theory]
    [InlineData(5L, null, null, 2.0, "both in frames")]
    [InlineData(31L, null, null, null, "from frame 31 is past the end of the video (30 frames, 3 s at 10 frames/s)")]
    [InlineData(null, 40L, null, null, "to frame 40 is past the end")]
    [InlineData(20L, 10L, null, null, "before from frame")]
    [InlineData(0L, null, null, null, "counted from 1")]
    [InlineData(null, null, 3.0, null, "from_time 3 s is past the end")]
    [InlineData(null, null, null, 4.0, "to_time 4 s is past the end")]
    [InlineData(null, null, 2.0, 1.0, "before from_time")]
    [InlineData(null, null, -1.0, null, "≥ 0")]
    public void A_range_outside_the_video_or_in_two_units_is_refused_with_a_reason(long? from, long? to, double? fromTime, double? toTime, string message)
    {
        var info = new VideoInfo("v.mp4", 64, 48, 10, 30);
        var e = Assert.Throws<ReidException>(() => new RangeRequest(from, to, fromTime, toTime).Resolve(info));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_video_is_refused_by_the_probe()
    {
        using var dir = new TempDir();
        var path = dir.File("notes.mp4");
        File.WriteAllText(path, "not a video at all");
        var e = Assert.Throws<ReidException>(() => FfmpegVideoSource.Probe(path));
        Assert.Contains("not a readable video", e.Message);
    }

    private static double MeanAbsDiff(RgbImage a, RgbImage b)
    {
        long sum = 0;
        for (var i = 0; i < a.Pixels.Length; i++) sum += Math.Abs(a.Pixels[i] - b.Pixels[i]);
        return sum / (double)a.Pixels.Length;
    }
}
