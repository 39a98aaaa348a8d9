using System.Diagnostics;
using Reid.TestSupport;
using Reid.Video.Decoding;
using Reid.Video.Streams;

namespace Reid.Video.Tests.Streams;

/// <summary>The live pipeline on a short clip of the shared video played as a camera plays it (in real time).</summary>
public class LiveCameraPipelineTests
{
    [SharedFact]
    public void A_played_clip_gives_interim_and_final_tracks_with_judged_crops_and_every_track_ends_final()
    {
        using var dir = new TempDir();
        var clip = dir.File("clip.mp4");
        using (var cut = Process.Start(new ProcessStartInfo(Tools.FfmpegPath, ["-nostdin", "-v", "error", "-y", "-i", SharedData.Video, "-t", "12", "-c", "copy", clip])
               { RedirectStandardError = true })!)
        {
            var err = cut.StandardError.ReadToEnd();
            cut.WaitForExit();
            Assert.True(cut.ExitCode == 0, err);
        }
        var cfg = VideoConfig.LoadDefault();
        using var extractor = new VideoPersonExtractor(cfg, SharedData.YoloxNano);
        using var stream = new CameraStream(new CameraSource("cam1", clip, MaxFps: 5)).Start();
        var pipeline = new LiveCameraPipeline(stream, extractor, new LivePipelineOptions { InterimSeconds = 3 });
        var reports = new List<LiveTrack>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        pipeline.Run(reports.Add, timeout.Token);

        Assert.False(timeout.IsCancellationRequested, "the clip should end by itself");
        Assert.InRange(pipeline.FramesProcessed, 30, 61);   // 12 s at 5 fps, less what the consumer dropped
        Assert.Contains(reports, r => r.Final);
        Assert.Contains(reports, r => !r.Final);
        // Every track is reported final exactly once, after all its interim reports.
        foreach (var g in reports.GroupBy(r => r.Track.Id))
        {
            Assert.Single(g, r => r.Final);
            Assert.True(g.Last().Final);
            Assert.All(g.Zip(g.Skip(1)), p => Assert.True(p.Second.Track.EndTime >= p.First.Track.EndTime));
        }
        Assert.All(reports, r =>
        {
            Assert.Equal("cam1", r.Camera);
            Assert.Equal("cam1", r.Track.Camera);
            Assert.InRange(r.Track.StartTime, 0, 12.5);      // a file's frame times are its presentation times
            Assert.All(r.Track.Crops, c => Assert.NotNull(c.Quality));
            Assert.Equal(extractor.Embedder.Dimension, r.Track.Embedding.Length);
        });
    }
}
