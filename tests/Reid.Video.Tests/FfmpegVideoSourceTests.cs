using Reid.TestSupport;
using Reid.Video.Decoding;

namespace Reid.Video.Tests;

public class FfmpegVideoSourceTests
{
    [Fact]
    public void Probes_and_decodes_every_frame_with_numbers_and_timestamps()
    {
        using var v = new TinyVideo(30);
        using var src = new FfmpegVideoSource(v.Path);
        Assert.Equal(64, src.Info.Width);
        Assert.Equal(48, src.Info.Height);
        Assert.Equal(10, src.Info.FramesPerSecond, 3);
        Assert.Equal(30, src.Info.FrameCount);
        var frames = src.ReadFrames().ToList();
        Assert.Equal(30, frames.Count);
        Assert.Equal(1, frames[0].Number);
        Assert.Equal(30, frames[^1].Number);
        Assert.Equal(2.9, frames[^1].Timestamp, 6);
        Assert.Equal(64 * 48 * 3, frames[0].Image.Pixels.Length);
        Assert.Null(src.Warning);
        Assert.NotEqual(frames[0].Image.Pixels, frames[1].Image.Pixels); // testsrc moves
    }

    [Fact]
    public void Reads_a_from_to_range_with_a_step_and_matches_the_full_decode()
    {
        using var v = new TinyVideo(30);
        List<VideoFrame> all;
        using (var src = new FfmpegVideoSource(v.Path)) all = src.ReadFrames().ToList();
        using var part = new FfmpegVideoSource(v.Path, new FrameRange(11, 20, 3));
        var frames = part.ReadFrames().ToList();
        Assert.Equal([11L, 14, 17, 20], frames.Select(f => f.Number));
        Assert.Equal(4, part.ExpectedFrames);
        foreach (var f in frames) Assert.Equal(all[(int)f.Number - 1].Image.Pixels, f.Image.Pixels);
        Assert.Equal(1.0, frames[0].Timestamp, 6);
    }

    [Fact]
    public void A_truncated_file_ends_cleanly_with_a_warning_and_keeps_the_frames_read()
    {
        using var v = new TinyVideo(60, "tiny.mkv", "-c:v mpeg4 -q:v 2");
        var bytes = File.ReadAllBytes(v.Path);
        var cut = System.IO.Path.Combine(v.Folder, "cut.mkv");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        using var src = new FfmpegVideoSource(cut);
        var frames = src.ReadFrames().ToList();
        Assert.InRange(frames.Count, 5, 59);
        Assert.NotNull(src.Warning);
        Assert.Contains("cut.mkv", src.Warning);
        Assert.Equal(Enumerable.Range(1, frames.Count).Select(i => (long)i), frames.Select(f => f.Number));
    }

    [Fact]
    public void A_non_video_file_is_a_clear_error_naming_it()
    {
        using var dir = new TempDir();
        var path = dir.File("notes.mp4");
        File.WriteAllText(path, "this is not a video");
        var e = Assert.Throws<Core.ReidException>(() => new FfmpegVideoSource(path));
        Assert.Contains("notes.mp4", e.Message);
        Assert.Throws<Core.ReidException>(() => new FfmpegVideoSource(dir.File("missing.mp4")));
    }

    [Fact]
    public void Stopping_early_leaves_no_ffmpeg_process_behind()
    {
        // Other test classes start ffmpeg in parallel, so follow this source's own child rather than counting.
        using var v = new TinyVideo(30);
        int? pid;
        using (var src = new FfmpegVideoSource(v.Path))
        {
            foreach (var f in src.ReadFrames()) { if (f.Number == 3) break; }
            pid = src.DecoderProcessId;
            Assert.NotNull(pid);
        }
        Assert.False(IsOurFfmpegChild(pid!.Value), $"ffmpeg child {pid} is still alive (or an unreaped zombie)");
    }

    [Fact]
    public void Bad_ranges_are_user_errors()
    {
        using var v = new TinyVideo(10);
        Assert.Throws<Core.ReidException>(() => new FfmpegVideoSource(v.Path, new FrameRange(0, 5)));
        Assert.Throws<Core.ReidException>(() => new FfmpegVideoSource(v.Path, new FrameRange(5, 2)));
        Assert.Throws<Core.ReidException>(() => new FfmpegVideoSource(v.Path, new FrameRange(50, null)));
        Assert.Throws<Core.ReidException>(() => new FfmpegVideoSource(v.Path, new FrameRange(1, 5, 0)));
    }

    // True while /proc lists pid as an ffmpeg child of this test process (zombies included).
    private static bool IsOurFfmpegChild(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            var name = stat[(stat.IndexOf('(') + 1)..close];
            var fields = stat[(close + 2)..].Split(' ');
            return name == "ffmpeg" && int.Parse(fields[1]) == Environment.ProcessId;
        }
        catch (IOException) { return false; }
    }
}

public class ImageSequenceSourceTests
{
    private static void WriteFrame(string path, int w, int h, byte value)
    {
        var px = new byte[w * h * 3];
        Array.Fill(px, value);
        File.WriteAllBytes(path, Imaging.ImageCodec.EncodePng(new Imaging.RgbImage(w, h, px)));
    }

    [Fact]
    public void Reads_a_mot_folder_with_frame_numbers_from_names_and_rate_from_seqinfo()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("img1"));
        for (int i = 1; i <= 6; i++) WriteFrame(dir.File($"img1/{i:000000}.png"), 8, 6, (byte)(i * 10));
        File.WriteAllText(dir.File("seqinfo.ini"), "[Sequence]\nframeRate=5\n");
        using var src = FrameSource.Open(dir.Path, new FrameRange(2, 6, 2));
        Assert.Equal(5, src.Info.FramesPerSecond);
        var frames = src.ReadFrames().ToList();
        Assert.Equal([2L, 4, 6], frames.Select(f => f.Number));
        Assert.Equal(0.2, frames[0].Timestamp, 9);
        Assert.Equal(40, frames[1].Image.Pixels[0]);
    }

    [Fact]
    public void A_corrupt_image_ends_the_sequence_with_a_warning_keeping_earlier_frames()
    {
        using var dir = new TempDir();
        for (int i = 1; i <= 4; i++) WriteFrame(dir.File($"{i:000000}.png"), 8, 6, 1);
        File.WriteAllBytes(dir.File("000003.png"), File.ReadAllBytes(dir.File("000003.png"))[..30]);
        using var src = FrameSource.Open(dir.Path);
        var frames = src.ReadFrames().ToList();
        Assert.Equal(2, frames.Count);
        Assert.Contains("000003.png", src.Warning);
    }

    [Fact]
    public void An_empty_folder_is_a_clear_error()
    {
        using var dir = new TempDir();
        Assert.Throws<Core.ReidException>(() => FrameSource.Open(dir.Path));
    }
}
