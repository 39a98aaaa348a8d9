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
}
