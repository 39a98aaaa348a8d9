using Reid.Onnx;
using Reid.Onnx.Proto;
using Reid.TestSupport;

namespace Reid.Foundation.Tests.Onnx;

public class OnnxGraphBuilderTests
{
    [Fact]
    public void BuiltModelParsesBackWithEverythingItWasGiven()
    {
        var b = new OnnxGraphBuilder("tiny", opset: 17);
        b.Input("x", TensorElementType.Float, "batch", 3, 2, 2);
        b.Initializer("w", [1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        b.Initializer("shape", [0L, -1L], 2);
        b.Node("Reshape", ["x", "shape"], ["flat"]);
        b.Node("Gemm", ["flat", "w"], ["y"], name: "fc").Attr("transB", 1L).Attr("alpha", 0.5f).Attr("note", "hi").Attr("ks", 1L, 2L);
        b.Output("y", TensorElementType.Float, "batch", 2);
        b.Metadata("reid.input_height", "2").Metadata("reid.input_height", "4");
        b.OpsetImport("com.microsoft", 1);

        var m = ModelProto.Parser.ParseFrom(b.ToBytes());
        Assert.Equal(OnnxGraphBuilder.DefaultIrVersion, m.IrVersion);
        Assert.Equal([("", 17L), ("com.microsoft", 1L)], m.OpsetImport.Select(o => (o.Domain, o.Version)));
        var input = Assert.Single(m.Graph.Input);
        Assert.Equal("batch", input.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal([3L, 2L, 2L], input.Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue));
        var w = m.Graph.Initializer.Single(i => i.Name == "w");
        Assert.Equal([2L, 3L], w.Dims);
        Assert.Equal(24, w.RawData.Length);
        Assert.Equal(5f, BitConverter.ToSingle(w.RawData.Span[16..20]));
        Assert.Equal([0L, -1L], m.Graph.Initializer.Single(i => i.Name == "shape").Int64Data);
        var fc = m.Graph.Node.Single(n => n.Name == "fc");
        Assert.Equal(1L, fc.Attribute.Single(a => a.Name == "transB").I);
        Assert.Equal(0.5f, fc.Attribute.Single(a => a.Name == "alpha").F);
        Assert.Equal("hi", fc.Attribute.Single(a => a.Name == "note").S.ToStringUtf8());
        Assert.Equal([1L, 2L], fc.Attribute.Single(a => a.Name == "ks").Ints);
        Assert.Equal("4", Assert.Single(m.MetadataProps).Value);   // a repeated key replaces the value
    }

    [Fact]
    public void InitializerShapeMustMatchItsData() =>
        Assert.Throws<ArgumentException>(() => new OnnxGraphBuilder("g").Initializer("w", [1f, 2f, 3f], 2, 2));

    [Fact]
    public void LoadNamesTheFileOnBadInput()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("junk.onnx"), [0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
        Assert.Contains("junk.onnx", Assert.Throws<Reid.Core.ReidException>(() => OnnxModelFile.Load(dir.File("junk.onnx"))).Message);
        Assert.Contains("not found", Assert.Throws<Reid.Core.ReidException>(() => OnnxModelFile.Load(dir.File("none.onnx"))).Message);
        new OnnxGraphBuilder("g").Save(dir.File("ok.onnx"));
        Assert.Equal("g", OnnxModelFile.Load(dir.File("ok.onnx")).Graph.Name);
    }

    [SharedFact]
    public void ReadsTheSharedOsnetGraph()
    {
        var m = OnnxModelFile.Load(SharedData.OsnetMsmt17);
        Assert.Contains(m.Graph.Node, n => n.OpType == "Conv");
        Assert.Equal(4, m.Graph.Input[0].Type.TensorType.Shape.Dim.Count);
    }
}
