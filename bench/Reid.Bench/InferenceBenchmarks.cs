using BenchmarkDotNet.Attributes;
using Reid.Inference;
using Reid.Onnx;

namespace Reid.Bench;

/// <summary>
/// What <see cref="InferenceSession.Run(ReadOnlyMemory{float}, ReadOnlySpan{long}, out long[])"/> costs beyond ONNX
/// Runtime's own work: on a one-node model (Relu of 4 floats) nearly all of a run is the binding — an OrtValue over
/// the pinned input, name lookup, the native call, the output copy. The real model's throughput is
/// `reid bench embed`. `dotnet run -c Release --project bench/Reid.Bench -- --filter '*Inference*'`.
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmarks
{
    private InferenceSession _session = null!;
    private readonly float[] _input = [-1, 0, 1, 2];

    [GlobalSetup]
    public void Setup()
    {
        var b = new OnnxGraphBuilder("relu", opset: 17);
        b.Input("x", TensorElementType.Float, "batch", 4);
        b.Node("Relu", ["x"], ["y"]);
        b.Output("y", TensorElementType.Float, "batch", 4);
        _session = InferenceSession.FromBytes(b.ToBytes(), "relu.onnx", new SessionOptions(IntraOpThreads: 1));
    }

    [GlobalCleanup]
    public void Cleanup() => _session.Dispose();

    [Benchmark(Description = "InferenceSession.Run, Relu of 1x4 floats (binding overhead)")]
    public float[] RunTiny() => _session.Run(_input, [1, 4], out _);
}
