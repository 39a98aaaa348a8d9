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
        // The library the Microsoft.ML.OnnxRuntime package put beside the tests, not some other copy on the machine.
        Assert.StartsWith("1.32.", OnnxRuntime.Instance.Version);
    }

    [Fact]
    public void MissingNativeLibraryIsOneLineSayingToRunSetup()
    {
        // The CLI beside these tests, hard-linked into a folder without the package's libonnxruntime.so.
        using var dir = new TempDir();
        var copy = dir.File("bin");
        Exec("cp", "-al", AppContext.BaseDirectory.TrimEnd('/'), copy);
        File.Delete(Path.Combine(copy, "runtimes", "linux-x64", "native", "libonnxruntime.so"));
        TinyModels.Linear().Save(dir.File("linear.onnx"));
        File.WriteAllBytes(dir.File("crop.png"), Reid.Imaging.ImageCodec.EncodePng(TinyModels.Image(1)));
        var (code, _, stderr) = Exec("dotnet", Path.Combine(copy, "reid.dll"), "extract", dir.File("crop.png"),
            "--model", dir.File("linear.onnx"), "--out", dir.File("out.emb"));
        Assert.Equal(1, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("cannot load ONNX Runtime", line);
        Assert.Contains("run scripts/setup.sh", line);
    }

    private static (int Code, string Stdout, string Stderr) Exec(string file, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2))) { p.Kill(true); throw new TimeoutException($"{file} did not finish"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
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
        Assert.DoesNotContain("[ErrorCode", e.Message);
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
    public void RunReadsASliceOfTheCallersBufferAtItsOffset()
    {
        using var s = InferenceSession.FromBytes(TinyModels.Linear().ToBytes(), "linear.onnx", new SessionOptions(IntraOpThreads: 1));
        // Two images at an odd offset inside a larger buffer, with different values around them: a run that
        // read from the buffer's start, or past the slice, would give other answers.
        var buffer = Enumerable.Range(0, 40).Select(i => (float)(i * 3 % 11 - 5)).ToArray();
        var slice = ((ReadOnlyMemory<float>)buffer).Slice(5, 24);
        var y = s.Run(slice, [2, 3, 2, 2], out var shape);
        Assert.Equal([2L, 4], shape);
        Assert.Equal(TinyModels.Apply(buffer.AsSpan(5, 12)), y[..4]);
        Assert.Equal(TinyModels.Apply(buffer.AsSpan(17, 12)), y[4..]);

        // The same buffer, changed in place, is read again (nothing cached from the first run).
        buffer[5] += 1;
        Assert.Equal(TinyModels.Apply(buffer.AsSpan(5, 12)), s.Run(slice, [2, 3, 2, 2], out _)[..4]);
    }

    [Fact]
    public void ModelOrtRefusesIsAnOnnxModelExceptionNamingTheFile()
    {
        using var dir = new TempDir();
        // Valid protobuf, invalid graph: the node reads a tensor nothing produces.
        var b = new OnnxGraphBuilder("dangling");
        b.Input("x", TensorElementType.Float, 1, 3);
        b.Node("Add", ["x", "missing"], ["y"]);
        b.Output("y", TensorElementType.Float, 1, 3);
        var path = dir.File("dangling.onnx");
        b.Save(path);
        var e = Assert.Throws<OnnxModelException>(() => InferenceSession.Open(path));
        Assert.StartsWith($"{path}: ONNX Runtime cannot load the model: ", e.Message);
        Assert.DoesNotContain("[ErrorCode", e.Message);

        var junk = dir.File("junk.onnx");
        File.WriteAllBytes(junk, [0x08, 0x07, 0xff, 0xff, 0xff, 0x12, 0x99]);
        Assert.StartsWith($"{junk}: ONNX Runtime cannot load the model: ", Assert.Throws<OnnxModelException>(() => InferenceSession.Open(junk)).Message);
    }

    [Fact]
    public void ConcurrentRunsOnOneSessionGiveTheSameAnswersAsSequentialOnes()
    {
        using var s = InferenceSession.FromBytes(TinyModels.Linear().ToBytes(), "linear.onnx", new SessionOptions(IntraOpThreads: 1));
        var inputs = Enumerable.Range(0, 64).Select(k => Enumerable.Range(0, (k % 4 + 1) * 12).Select(i => (float)((i * (k + 1)) % 13 - 6)).ToArray()).ToArray();
        var expected = inputs.Select(x => s.Run(x, [x.Length / 12, 3, 2, 2], out _)).ToArray();
        var actual = new float[inputs.Length][];
        Parallel.For(0, inputs.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, j =>
        {
            var k = j % inputs.Length;
            var y = s.Run(inputs[k], [inputs[k].Length / 12, 3, 2, 2], out _);
            lock (actual) actual[k] = y;
            Assert.Equal(expected[k], y);
        });
        for (var k = 0; k < inputs.Length; k++)
        {
            Assert.Equal(expected[k], actual[k]);
            Assert.Equal(TinyModels.Apply(inputs[k].AsSpan(0, 12)), expected[k][..4]);
        }
    }

    [Fact]
    public async Task DisposeDuringConcurrentRunsNeitherCrashesNorCorruptsAnswers()
    {
        var s = InferenceSession.FromBytes(TinyModels.Linear().ToBytes(), "linear.onnx", new SessionOptions(IntraOpThreads: 1));
        var x = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        var expected = TinyModels.Apply(x);
        using var started = new CountdownEvent(4);
        var runners = Enumerable.Range(0, 4).Select(r => Task.Run(() =>
        {
            started.Signal();
            for (var i = 0; i < 100_000; i++)
            {
                try { Assert.Equal(expected, s.Run(x, [1, 3, 2, 2], out _)); }
                catch (ObjectDisposedException) { return; }
            }
        })).ToArray();
        started.Wait();
        s.Dispose();
        await Task.WhenAll(runners);
        Assert.Throws<ObjectDisposedException>(() => s.Run(x, [1, 3, 2, 2], out _));
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
