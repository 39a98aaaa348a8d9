using Reid.Core;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.Onnx.Proto;
using Reid.TestSupport;
using Reid.Training.Backbones;
using Reid.Training.Export;
using Reid.Training.Import;

namespace Reid.Training.Tests.Onnx;

public class ExportImportTests
{
    private static readonly ExportOptions Small = new() { Height = 64, Width = 32 };

    private static ReidModel SmallModel(ulong seed)
    {
        var previous = Rng.Shared;
        Rng.Shared = new Rng(seed);
        try { return new ReidModel(new ModelConfig { Backbone = "resnet18", Pooling = Pooling.Gem, EmbeddingDim = 64, Classes = 5 }); }
        finally { Rng.Shared = previous; }
    }

    /// <summary>Gives BN buffers non-trivial values so a round trip that dropped them would show.</summary>
    internal static void Perturb(Module m, ulong seed)
    {
        var rng = new Rng(seed);
        foreach (var (name, b) in m.NamedBuffers())
        {
            var d = b.Data;
            for (int i = 0; i < d.Length; i++)
                d[i] = name.EndsWith("running_var") ? 0.5f + rng.NextFloat() : 0.2f * (rng.NextFloat() - 0.5f);
        }
        foreach (var (name, p) in m.NamedParameters())
            if (name.EndsWith("bn.weight") || name.EndsWith("bn.bias") || name.Contains("bnneck"))
            {
                var d = p.Data;
                for (int i = 0; i < d.Length; i++) d[i] += 0.1f * (rng.NextFloat() - 0.5f);
            }
    }

    [Fact]
    public void ExportHasDynamicBatchKeepsBatchNormAndCarriesPreprocessing()
    {
        var model = SmallModel(1);
        var proto = OnnxExporter.Build(model, Small);
        Assert.True(proto.OpsetImport.Single().Version >= 13);
        var input = proto.Graph.Input.Single();
        Assert.Equal("images", input.Name);
        Assert.Equal("batch", input.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal([3L, 64, 32], input.Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue));
        var output = proto.Graph.Output.Single();
        Assert.Equal("batch", output.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(64, output.Type.TensorType.Shape.Dim[1].DimValue);
        Assert.Equal(21, proto.Graph.Node.Count(n => n.OpType == "BatchNormalization"));   // 20 in ResNet-18 + BNNeck
        var initializers = proto.Graph.Initializer.Select(t => t.Name).ToHashSet();
        Assert.Contains("backbone.layer1.0.conv1.weight", initializers);
        Assert.Contains("head.bnneck.running_var", initializers);
        Assert.Contains("head.pool.p", initializers);
        Assert.DoesNotContain("head.classifier.weight", initializers);   // not on the embedding path
        var meta = proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("64", meta["reid.input_height"]);
        Assert.Equal("RGB", meta["reid.channel_order"]);
    }

    [Fact]
    public void ExportThenImportRestoresEveryTensorExactly()
    {
        using var dir = new TempDir();
        var a = SmallModel(1);
        Perturb(a, 5);
        var path = dir.File("a.onnx");
        OnnxExporter.Save(a, path, Small);
        var b = SmallModel(2);
        var report = OnnxWeightImporter.Import(path, b);
        Assert.Equal(0, report.FoldedBatchNorms);
        var sa = a.StateDict();
        foreach (var (name, t) in b.StateDict())
            if (!name.StartsWith("head.classifier") && name != "head.pool.p")
                Assert.True(sa[name].Data.SequenceEqual(t.Data), $"tensor {name} differs after import");
    }

    [Fact]
    public void ImportIntoAnotherArchitectureNamesTheMismatch()
    {
        using var dir = new TempDir();
        var path = dir.File("r18.onnx");
        OnnxExporter.Save(new ResNet(18), path, Small);
        var e = Assert.Throws<ReidException>(() => OnnxWeightImporter.Import(path, new ResNet(34)));
        Assert.Contains(path, e.Message);
        e = Assert.Throws<ReidException>(() => OnnxWeightImporter.Import(path, new MobileNetV2()));
        Assert.Contains("shape", e.Message);
        Assert.Contains("features.0.0", e.Message);
    }

    [Fact]
    public void UnsupportedOpIsNamed()
    {
        using var dir = new TempDir();
        var proto = OnnxExporter.Build(new ResNet(18), Small);
        proto.Graph.Node.Add(new NodeProto { OpType = "Einsum", Name = "mystery" });
        var path = dir.File("x.onnx");
        using (var f = File.Create(path)) Google.Protobuf.MessageExtensions.WriteTo(proto, f);
        var e = Assert.Throws<ReidException>(() => OnnxWeightImporter.Import(path, new ResNet(18)));
        Assert.Contains("'Einsum'", e.Message);
        Assert.Contains("mystery", e.Message);
    }

    [Fact]
    public void CorruptOnnxFileIsAClearError()
    {
        using var dir = new TempDir();
        var path = dir.File("bad.onnx");
        File.WriteAllBytes(path, [0x0a, 0xff, 0xff, 0xff, 0x01, 0x02]);
        Assert.Contains(path, Assert.Throws<ReidException>(() => OnnxWeightImporter.Import(path, new ResNet(18))).Message);
    }

    [Fact]
    public void OsnetPoolsWithGeMWhenAskedAndImportsAnAveragePooledExport()
    {
        // OSNet pools inside its backbone, so `pooling: gem` has to reach it there (it was once silently ignored).
        var avg = new ReidModel(new ModelConfig { Backbone = "osnet_x0_25" });
        var gem = new ReidModel(new ModelConfig { Backbone = "osnet_x0_25", Pooling = Pooling.Gem, GemP = 4f });
        var p = gem.NamedParameters().Single(x => x.Name.EndsWith(".p"));
        Assert.Equal("backbone.global_gempool.p", p.Name);
        Assert.Equal(4f, p.Parameter.Data[0]);
        Assert.DoesNotContain(avg.NamedParameters(), x => x.Name.EndsWith(".p"));

        using var dir = new TempDir();
        var path = dir.File("avg.onnx");
        Perturb(avg.Backbone, 7);
        OnnxExporter.Save(avg.Backbone, path, Small);
        var report = OnnxWeightImporter.Import(path, gem.Backbone);
        Assert.Equal(1, report.GeMKeptInitial);
        Assert.Equal(4f, p.Parameter.Data[0]);
        var source = avg.Backbone.StateDict();
        foreach (var (name, t) in gem.Backbone.StateDict())
            if (name != "global_gempool.p")
                Assert.True(source[name].Data.SequenceEqual(t.Data), $"tensor {name} differs after import");

        // Same weights, different pooling: the embeddings must differ.
        avg.Eval(); gem.Eval();
        using var scope = new TensorScope();
        var x = Tensor.RandomNormal(new Rng(3), 0, 1, 2, 3, 64, 32);
        Assert.False(avg.Backbone.Forward(x).Data.SequenceEqual(gem.Backbone.Forward(x).Data));
    }

    [SharedFact]
    public void SharedOsnetX025ImportsWithFoldedBatchNorms()
    {
        var net = new OSNet(0.25);
        var report = OnnxWeightImporter.Import(SharedData.OsnetMsmt17, net);
        // Every Conv+BN pair of torchreid's OSNet was folded by PyTorch's exporter; fc.1 stays a BatchNorm.
        var batchNorms = net.NamedModules().Count(m => m.Module is BatchNorm2d);
        Assert.Equal(batchNorms, report.FoldedBatchNorms);
    }

    [SharedFact]
    public void SharedOsnetDoesNotFitAWiderOsnet()
    {
        var e = Assert.Throws<ReidException>(() => OnnxWeightImporter.Import(SharedData.OsnetMsmt17, new OSNet(0.5)));
        Assert.Contains("conv1.conv.weight", e.Message);
    }
}
