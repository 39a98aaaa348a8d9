using Reid.Core;
using Reid.Inference.Native;
using Reid.Onnx;

namespace Reid.Inference;

/// <summary>
/// The process-wide ONNX Runtime environment (one OrtEnv, created on first use, kept for the process's life as
/// ORT recommends). Throws a <see cref="ReidException"/> naming scripts/setup.sh when the library is absent.
/// </summary>
public sealed class OnnxRuntime
{
    private static readonly Lazy<OnnxRuntime> LazyInstance = new(() => new OnnxRuntime(), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The environment; creating it loads libonnxruntime.so.1 (REID_ORT_LIB or .deps/ort).</summary>
    public static OnnxRuntime Instance
    {
        get
        {
            OrtApi.EnsureLoaded();   // outside Lazy, so a missing library throws the same clear error every time
            return LazyInstance.Value;
        }
    }

    internal IntPtr Env { get; }
    internal IntPtr CpuMemory { get; }

    /// <summary>ORT's version string, e.g. "1.30.0".</summary>
    public string Version => OrtApi.Version;
    public string LibraryPath => OrtApi.LibraryPath;

    private OnnxRuntime()
    {
        const int logLevelError = 3;   // warnings (e.g. unused initializers) would clutter the CLI's output
        Env = OrtApi.CreateEnv(logLevelError, "reid");
        CpuMemory = OrtApi.CreateCpuMemoryInfo();
    }
}

/// <summary>How hard ONNX Runtime rewrites the graph before running it (GraphOptimizationLevel).</summary>
public enum GraphOptimization { None = 0, Basic = 1, Extended = 2, All = 99 }

/// <param name="IntraOpThreads">Threads inside one operator; 0 lets ORT choose (one per physical core).</param>
/// <param name="InterOpThreads">Threads across independent operators; 0 lets ORT choose.</param>
public sealed record SessionOptions(int IntraOpThreads = 0, GraphOptimization Optimization = GraphOptimization.All, int InterOpThreads = 0)
{
    public static SessionOptions Default { get; } = new();
}

/// <summary>A graph input or output: name, element type and shape (-1 for a dynamic dim, named in <see cref="SymbolicDims"/>).</summary>
public sealed record TensorInfo(string Name, TensorElementType ElementType, long[] Shape, string[] SymbolicDims)
{
    public int Rank => Shape.Length;

    /// <summary>E.g. <c>input float[batch,3,256,128]</c>.</summary>
    public override string ToString() =>
        $"'{Name}' {ElementType.ToString().ToLowerInvariant()}[{string.Join(",", Shape.Select((d, i) => d >= 0 ? d.ToString() : SymbolicDims.ElementAtOrDefault(i) is { Length: > 0 } s ? s : "?"))}]";
}

/// <summary>An output of a run: its shape, element type, and the values when they are floats.</summary>
public sealed record Tensor(string Name, TensorElementType ElementType, long[] Shape, float[]? Data)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>A float input to <see cref="InferenceSession.Run(IReadOnlyList{NamedInput}, IReadOnlyList{string}?)"/>.</summary>
public sealed record NamedInput(string Name, float[] Data, long[] Shape);

/// <summary>A model ONNX Runtime could not load or run: ORT's message and what the model expects.</summary>
public sealed class OnnxModelException : ReidException
{
    public OnnxModelException(string message, Exception? inner = null) : base(message, inner ?? new InvalidOperationException(message)) { }
}
