using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.Training.Backbones;
using Reid.Training.Export;

namespace Reid.Training.Tests.Backbones;

public class BackboneTests
{
    private static int[] OutputShape(Module m, int h = 64, int w = 32)
    {
        m.Eval();
        using var scope = new TensorScope();
        using var _ = Tape.NoGrad();
        using var x = Tensor.RandomNormal(new Rng(1), 0, 1, 2, 3, h, w);
        return m.Forward(x).ShapeArray();
    }

    // Parameter counts of torchvision's definitions without their ImageNet classifier (published totals
    // 11,689,512 / 21,797,672 / 25,557,032 / 3,504,872 minus the fc layer).
    [Theory]
    [InlineData(18, 11_176_512)]
    [InlineData(34, 21_284_672)]
    [InlineData(50, 23_508_032)]
    public void ResNetHasTorchvisionsParameterCount(int depth, long expected) =>
        Assert.Equal(expected, new ResNet(depth).ParameterCount());

    [Fact]
    public void MobileNetV2HasTorchvisionsParameterCount() =>
        Assert.Equal(2_223_872, new MobileNetV2().ParameterCount());

    [Fact]
    public void ResNetNamesFollowTorchvision()
    {
        var names = new ResNet(50).NamedParameters().Select(p => p.Name).ToHashSet();
        Assert.Contains("conv1.weight", names);
        Assert.Contains("layer1.0.downsample.0.weight", names);
        Assert.Contains("layer4.2.bn3.bias", names);
        Assert.Contains("layer4.1.bn3.running_var", new ResNet(50).NamedBuffers().Select(b => b.Name));
    }

    [Fact]
    public void LastStrideOneKeepsTheSixteenthResolution()
    {
        Assert.Equal([2, 512, 4, 2], OutputShape(new ResNet(18, lastStride: 1)));
        Assert.Equal([2, 512, 2, 1], OutputShape(new ResNet(18, lastStride: 2)));
    }

    [Fact]
    public void MobileNetV2EndsIn1280Channels() => Assert.Equal([2, 1280, 2, 1], OutputShape(new MobileNetV2()));

    [Theory]
    [InlineData(0.25, 16, 64, 96, 128)]
    [InlineData(0.5, 32, 128, 192, 256)]
    [InlineData(0.75, 48, 192, 288, 384)]
    [InlineData(1.0, 64, 256, 384, 512)]
    public void OSNetWidthsScaleTheStages(double width, int c0, int c1, int c2, int c3)
    {
        var net = new OSNet(width);
        var p = net.NamedParameters().ToDictionary(x => x.Name, x => x.Parameter.ShapeArray());
        Assert.Equal([c0, 3, 7, 7], p["conv1.conv.weight"]);
        Assert.Equal([c1, c0, 1, 1], p["conv2.0.downsample.conv.weight"]);
        Assert.Equal([c2, c1, 1, 1], p["conv3.0.downsample.conv.weight"]);
        Assert.Equal([c3, c3, 1, 1], p["conv5.conv.weight"]);
        Assert.Equal([c1 / 4 / 16, c1 / 4, 1, 1], p["conv2.0.gate.fc1.weight"]);
        Assert.Equal([c1 / 4, 1, 3, 3], p["conv2.0.conv2d.3.conv2.weight"]);
        Assert.Equal([512, c3], p["fc.0.weight"]);
        Assert.Equal([2, 512], OutputShape(net));
    }

    [Fact]
    public void OSNetLastStrideOneDropsOnlyConv3sPool()
    {
        var pooled = new OSNet(0.25);
        var fine = new OSNet(0.25, lastStride: 1);
        // Same tensors under the same names, so torchreid weights load into either.
        Assert.Equal(pooled.NamedParameters().Select(p => (p.Name, string.Join('x', p.Parameter.ShapeArray()))),
                     fine.NamedParameters().Select(p => (p.Name, string.Join('x', p.Parameter.ShapeArray()))));
        int AveragePools(Module m) => OnnxExporter.Build(m, new ExportOptions { Height = 64, Width = 32 })
            .Graph.Node.Count(n => n.OpType == "AveragePool");
        Assert.Equal(2, AveragePools(pooled));
        Assert.Equal(1, AveragePools(fine));
        Assert.Throws<ArgumentException>(() => new OSNet(0.25, lastStride: 4));
    }

    [Theory]
    [InlineData("osnet_x0_25", null, 2)]
    [InlineData("osnet_x0_25", 1, 1)]
    [InlineData("resnet18", null, 1)]
    [InlineData("resnet18", 2, 2)]
    [InlineData("mobilenetv2", null, 1)]
    public void EachBackboneHasItsUsualLastStrideUnlessOneIsSet(string backbone, int? set, int expected)
    {
        var config = new ModelConfig { Backbone = backbone, LastStride = set };
        Assert.Equal(expected, config.EffectiveLastStride);
        Assert.Contains($"/ls{expected}/", config.Architecture);
    }

    [Fact]
    public void ReidModelGivesEmbeddingAndTrainingOutputs()
    {
        var model = new ReidModel(new ModelConfig { Backbone = "resnet18", EmbeddingDim = 128, Classes = 10, Pooling = Pooling.Gem });
        Assert.Equal([2, 128], OutputShape(model));
        model.Train();
        using var scope = new TensorScope();
        using var x = Tensor.RandomNormal(new Rng(2), 0, 1, 2, 3, 64, 32);
        var (feature, logits) = model.ForwardTrain(x);
        Assert.Equal([2, 128], feature.ShapeArray());
        Assert.Equal([2, 10], logits.ShapeArray());
        var bnneckBias = model.NamedParameters().Single(p => p.Name == "head.bnneck.bias").Parameter;
        Assert.False(bnneckBias.RequiresGrad);
        Assert.False(bnneckBias.WeightDecay);
    }

    [Fact]
    public void UnknownBackboneIsAClearError() =>
        Assert.Contains("resnet50", Assert.Throws<ReidException>(() => new ModelConfig { Backbone = "vgg16" }.CreateBackbone()).Message);
}
