using Reid.Data;
using Reid.TestSupport;
using Reid.Video.Mining;

namespace Reid.Video.Tests.Mining;

public sealed class CropMinerTests
{
    [SharedFact]
    public void Tracked_people_of_a_video_are_packed_into_the_store_once()
    {
        using var dir = new TempDir();
        // 40 s of the shared video (its first people walking through): enough crops (≥ 64) to pre-train on.
        var clip = dir.File("clip.mp4");
        using (var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ffmpeg",
                   $"-v error -y -i {SharedData.Video} -t 40 -c copy {clip}") { RedirectStandardError = true })!)
        {
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
        }
        using var store = CropStore.OpenOrCreate(dir.File("crops.db"));
        using var extractor = new VideoPersonExtractor(VideoConfig.LoadDefault(), SharedData.YoloxNano);
        var mined = CropMiner.Mine(extractor, clip, store);
        Assert.False(mined.AlreadyMined);
        Assert.True(mined.Tracks >= 1, "nobody tracked");
        Assert.Equal(mined.Crops, store.Count);
        Assert.True(store.Count >= 5, $"{store.Count} crops");
        var first = store.Ids()[0];
        var image = Reid.Imaging.ImageCodec.Decode(store.ReadJpeg(first), "crop");
        Assert.True(image.Height > image.Width, "a person crop is taller than wide");
        Assert.Equal(Path.GetFullPath(clip), store.Origin(first)!.Source);

        var again = CropMiner.Mine(extractor, clip, store);
        Assert.True(again.AlreadyMined);
        Assert.Equal(mined.Crops, store.Count);

        // `reid pretrain --video … --store … --images …` mines (here: finds the clip mined already) and trains on the packed
        // crops and a folder's together (the clip alone gives fewer than the 64 crops pre-training asks for).
        var folder = dir.File("folder");
        Directory.CreateDirectory(folder);
        foreach (var f in Directory.GetFiles(SharedData.Path("data", "cuhk03", "detected", "train")).Order(StringComparer.Ordinal).Take(40))
            File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        var run = ReidCli.Run(["pretrain", "--video", clip, "--store", dir.File("crops.db"), "--images", folder, "--detector", SharedData.YoloxNano,
            "--out", dir.File("moco"), "--epochs", "1", "--steps", "1", "--batch", "4", "--queue", "8"], env: null, TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        Assert.Contains("already in", run.Stdout);
        Assert.True(File.Exists(dir.File("moco/model.onnx")));
        Assert.Contains($"crops      : {40 + store.Count}", run.Stdout);
        var noStore = ReidCli.Run(["pretrain", "--video", clip, "--out", dir.File("moco2")], env: null, TimeSpan.FromMinutes(1));
        Assert.Equal(1, noStore.ExitCode);
        Assert.Contains("--video needs --store", noStore.Stderr);
    }
}
