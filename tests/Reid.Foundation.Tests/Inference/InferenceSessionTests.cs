using Reid.Core;
using Reid.Inference;
using Reid.Onnx;
using Reid.TestSupport;

namespace Reid.Foundation.Tests.Inference;

public class InferenceSessionTests
{
    [Fact]
    public void RuntimeLoadsAndReportsItsVersion()
    {
        Assert.StartsWith("1.", OnnxRuntime.Instance.Version);
        Assert.EndsWith("libonnxruntime.so.1", OnnxRuntime.Instance.LibraryPath);
    }

    [Fact]
    public void DescribesInputsOutputsAndMetadata()
    {
        var bytes = TinyModels.Linear().Metadata("reid.input_height", "2").Metadata("owner", "tests").ToBytes();
        using var s = InferenceSession.FromBytes(bytes, "linear.onnx");
        var x = Assert.Single(s.Inputs);
        Assert.Equal("x", x.Name);
        Assert.Equal(TensorElementType.Float, x.ElementType);
        Assert.Equal([-1L, 3, 2, 2], x.Shape);
        Assert.Equal("batch", x.SymbolicDims[0]);
        Assert.Equal("'x' float[batch,3,2,2]", x.ToString());
        Assert.Equal([-1L, 4], Assert.Single(s.Outputs).Shape);
        Assert.Equal("tests", s.Metadata["owner"]);
        Assert.Equal("2", s.Metadata["reid.input_height"]);
        Assert.Equal("reid", s.ProducerName);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void RunMatchesHandComputedLinearMap(int batch)
    {
        using var s = InferenceSession.FromBytes(TinyModels.Linear().ToBytes(), "linear.onnx",
            new SessionOptions(IntraOpThreads: 1, Optimization: GraphOptimization.Basic));
        var x = Enumerable.Range(0, batch * 12).Select(i => (float)(i % 7 - 3)).ToArray();
        var y = s.Run(x, [batch, 3, 2, 2], out var shape);
        Assert.Equal([(long)batch, 4], shape);
        for (var n = 0; n < batch; n++)
            Assert.Equal(TinyModels.Apply(x.AsSpan(n * 12, 12)), y[(n * 4)..(n * 4 + 4)]);
    }

    [Fact]
    public void NamedRunReturnsRequestedOutputs()
    {
        var b = TinyModels.Linear();
        b.Output("flat", TensorElementType.Float, "batch", 12);
        using var s = InferenceSession.FromBytes(b.ToBytes(), "two-outputs.onnx");
        var x = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        var outs = s.Run([new NamedInput("x", x, [1, 3, 2, 2])], ["flat", "y"]);
        Assert.Equal(x, outs[0].Data);
        Assert.Equal(TinyModels.Apply(x), outs[1].Data);
        Assert.Contains("no output named 'nope'", Assert.Throws<OnnxModelException>(() => s.Run([new NamedInput("x", x, [1, 3, 2, 2])], ["nope"])).Message);
    }

    [Fact]
    public void FileAndBytesGiveTheSameSession()
    {
        using var dir = new TempDir();
        TinyModels.Linear(fixedBatch: true).Save(dir.File("fixed.onnx"));
        using var s = InferenceSession.Open(dir.File("fixed.onnx"));
        Assert.Equal([1L, 3, 2, 2], s.Inputs[0].Shape);
        var x = new float[12];
        x[5] = 1;
        Assert.Equal(TinyModels.Apply(x), s.Run(x, [1, 3, 2, 2], out _));
    }

    [Fact]
    public void MalformedAndEmptyModelsGiveOrtsMessage()
    {
        var junk = new byte[200];
        new Random(1).NextBytes(junk);
        var e = Assert.Throws<OnnxModelException>(() => InferenceSession.FromBytes(junk, "junk.onnx"));
        Assert.StartsWith("junk.onnx: ONNX Runtime cannot load the model: ", e.Message);
        Assert.True(e.Message.Length > "junk.onnx: ONNX Runtime cannot load the model: ".Length + 5, e.Message);

        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("empty.onnx"), []);
        Assert.Contains("empty.onnx", Assert.Throws<OnnxModelException>(() => InferenceSession.Open(dir.File("empty.onnx"))).Message);
        Assert.Contains("not found", Assert.Throws<ReidException>(() => InferenceSession.Open(dir.File("none.onnx"))).Message);
    }

    [Fact]
    public void UnknownOperatorIsALoadError()
    {
        var b = new OnnxGraphBuilder("bad");
        b.Input("x", TensorElementType.Float, 1, 3);
        b.Node("NoSuchOp", ["x"], ["y"]);
        b.Output("y", TensorElementType.Float, 1, 3);
        var e = Assert.Throws<OnnxModelException>(() => InferenceSession.FromBytes(b.ToBytes(), "unknown-op.onnx"));
        Assert.Contains("NoSuchOp", e.Message);
    }

    [Fact]
    public void WrongInputShapeNamesTheExpectedInput()
    {
        using var s = InferenceSession.FromBytes(TinyModels.Linear().ToBytes(), "linear.onnx");
        var e = Assert.Throws<OnnxModelException>(() => s.Run(new float[48], [1, 3, 4, 4], out _));
        Assert.Contains("linear.onnx: ONNX Runtime: ", e.Message);
        Assert.Contains("the model expects input 'x' float[batch,3,2,2]", e.Message);
        var rank = Assert.Throws<OnnxModelException>(() => s.Run(new float[12], [3, 4], out _));
        Assert.Contains("rank", rank.Message, StringComparison.OrdinalIgnoreCase);
        var count = Assert.Throws<OnnxModelException>(() => s.Run(new float[11], [1, 3, 2, 2], out _));
        Assert.Contains("11 values", count.Message);
    }

    [Fact]
    public void WrongElementTypeIsOrtsError()
    {
        using var s = InferenceSession.FromBytes(TinyModels.Linear(inputType: TensorElementType.Double).ToBytes(), "double.onnx");
        var e = Assert.Throws<OnnxModelException>(() => s.Run(new float[12], [1, 3, 2, 2], out _));
        Assert.Contains("double", e.Message);
        Assert.Contains("'x' double[batch,3,2,2]", e.Message);
    }

    [Fact]
    public void DisposedSessionRefusesToRun()
    {
        var s = InferenceSession.FromBytes(TinyModels.Linear().ToBytes(), "linear.onnx");
        s.Dispose();
        s.Dispose();
        Assert.Throws<ObjectDisposedException>(() => s.Run(new float[12], [1, 3, 2, 2], out _));
    }
}
