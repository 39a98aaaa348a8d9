using Reid.Training.Benchmark;

namespace Reid.Training.Tests.Trainer;

/// <summary>`reid bench train`'s figures: arithmetic per image from the model's real shapes, and a fraction of a measured peak.</summary>
[Collection(TrainingRuns.Name)]
public sealed class TrainBenchmarkTests
{
    [Fact]
    public void Achieved_gflops_come_from_the_models_own_arithmetic_and_a_peak_measured_in_the_same_run()
    {
        TrainBenchmarkResult Run(int h, int w) => TrainBenchmark.Run(new TrainBenchmarkOptions
        {
            Backbone = "resnet18", Batch = 2, Steps = 1, WarmupSteps = 0, Height = h, Width = w, Classes = 4,
        });
        var small = Run(64, 32);
        var large = Run(128, 64);
        Assert.True(small.TrainGflopsPerImage > 0 && double.IsFinite(small.TrainGflopsPerImage));
        // convolutions scale with the pixels: four times the image, four times the arithmetic (the head is negligible)
        Assert.InRange(large.TrainGflopsPerImage / small.TrainGflopsPerImage, 3.7, 4.1);
        // ResNet-18 with last stride 1 at 128x64, counted by hand layer by layer: 0.497 GMAC forward, so 3 x 2 x 0.497 GFLOP a step
        Assert.InRange(large.TrainGflopsPerImage, 2.98 * 0.98, 2.98 * 1.02);
        Assert.True(large.PeakGflops > 1);
        Assert.InRange(large.FractionOfPeak, 1e-4, 1.0);
        Assert.Equal(large.ImagesPerSecond * large.TrainGflopsPerImage, large.AchievedGflops, 6);
    }

    [Fact]
    public void The_figures_carry_what_the_side_by_side_script_reads_and_the_machine_they_came_from()
    {
        var options = new TrainBenchmarkOptions { Backbone = "resnet18", Batch = 2, Steps = 2, Height = 64, Width = 32 };
        var result = new TrainBenchmarkResult("resnet18", 2, "f32", 2, 10.123456, 0.2, 0.91234, 512.34, 100.26, 11_000_000, [0.21, 0.19])
        {
            PeakGflops = 100, PeakThreads = 2, TrainGflopsPerImage = 3,
        };
        var f = result.Figures(options, "0.50 0.40 0.30 1/100 42");
        // bench/train_side_by_side.sh reads these
        foreach (var key in new[] { "images_per_s", "onednn_fraction", "peak_rss_mb", "fma_peak_gflops", "fma_peak_threads", "backbone", "batch", "precision", "cpu" })
            Assert.True(f.ContainsKey(key), key);
        Assert.Equal(10.123, f["images_per_s"]);
        Assert.Equal(0.304, f["fraction_of_fma_peak"]);   // 10.123456 x 3 / 100 = 0.3037, to three places
        Assert.Equal("64x32", f["input"]);
        Assert.Equal("0.50 0.40 0.30 1/100 42", f["load_average_at_start"]);
    }
}
