using Reid.Inference.Profiling;
using Reid.Onnx;
using Reid.TestSupport;

namespace Reid.Foundation.Tests.Inference;

public class ProfilingTests
{
    [Fact]
    public void CountsConvGemmAndMatMulMultiplyAddsFromShapes()
    {
        var b = new OnnxGraphBuilder("costly");
        b.Input("x", TensorElementType.Float, "batch", 3, 2, 2);
        b.Initializer("k", new float[4 * 3 * 3 * 3], 4, 3, 3, 3);
        b.Node("Conv", ["x", "k"], ["c"], name: "conv").Attr("pads", 1L, 1L, 1L, 1L);   // -> [1,4,2,2]
        b.Node("Relu", ["c"], ["r"]);
        b.Node("Flatten", ["r"], ["f"]).Attr("axis", 1L);                               // -> [1,16]
        b.Initializer("w", new float[5 * 16], 5, 16);
        b.Node("Gemm", ["f", "w"], ["g"], name: "fc").Attr("transB", 1L);              // -> [1,5]
        b.Initializer("m", new float[5 * 7], 5, 7);
        b.Node("MatMul", ["g", "m"], ["y"], name: "proj");                              // -> [1,7]
        b.Output("y", TensorElementType.Float, "batch", 7);
        using var dir = new TempDir();
        b.Save(dir.File("costly.onnx"));

        var cost = ModelFlops.Measure(dir.File("costly.onnx"), 2, 2);
        Assert.Equal([("conv", 16L * 27), ("fc", 5L * 16), ("proj", 7L * 5)], cost.Nodes.Select(n => (n.Name, n.MultiplyAdds)));
        Assert.Equal(432 + 80 + 35, cost.MultiplyAdds);
        Assert.Equal(2 * cost.MultiplyAdds, cost.Flops);
    }

    [Fact]
    public void FmaPeakIsMeasurable()
    {
        var gflops = MachinePeak.MeasureGflops(1, TimeSpan.FromMilliseconds(100));
        Assert.InRange(gflops, 0.5, 1000);
    }

    [SharedFact]
    public void SharedOsnetCostsAbout82MillionMultiplyAdds()
    {
        // torchreid's model zoo lists OSNet x0.25 at about 82M mult-adds (its "FLOPs") for 256x128 input.
        var cost = ModelFlops.Measure(SharedData.OsnetMsmt17, 256, 128);
        Assert.InRange(cost.MultiplyAdds, 75e6, 90e6);
    }
}
