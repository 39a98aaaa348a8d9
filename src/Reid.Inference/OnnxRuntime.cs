using Reid.Core;
using Reid.Onnx;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Reid.Inference;

/// <summary>
/// The process-wide ONNX Runtime environment (ORT's one OrtEnv, created on first use, kept for the process's life
/// as ORT recommends). The native library is <c>libonnxruntime.so</c> from the Microsoft.ML.OnnxRuntime NuGet
/// package, which the build copies to <c>runtimes/linux-x64/native/</c> beside every program that references
/// Reid.Inference; when it cannot be loaded, a <see cref="ReidException"/> says to run scripts/setup.sh.
/// </summary>
public sealed class OnnxRuntime
{
    private static readonly object Gate = new();
    private static OnnxRuntime? _instance;

    /// <summary>The environment; the first call loads the native library.</summary>
    public static OnnxRuntime Instance
    {
        get
        {
            if (Volatile.Read(ref _instance) is { } ready) return ready;
            // Not a Lazy: a failed load must throw the same clear error on every call, not a cached
            // TypeInitializationException.
            lock (Gate) return _instance ??= Create();
        }
    }

    internal Ort.OrtEnv Env { get; }

    /// <summary>ORT's version string, e.g. "1.32.0".</summary>
    public string Version { get; }

    private OnnxRuntime(Ort.OrtEnv env)
    {
        Env = env;
        Version = env.GetVersionString();
    }

    private static OnnxRuntime Create()
    {
        try
        {
            if (Ort.OrtEnv.IsCreated) return new OnnxRuntime(Ort.OrtEnv.Instance());
            // Warnings (e.g. unused initializers, nodes placed on the CPU) would clutter the CLI's output.
            var options = new Ort.EnvironmentCreationOptions { logId = "reid", logLevel = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
            return new OnnxRuntime(Ort.OrtEnv.CreateInstanceWithOptions(ref options));
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException)
        {
            throw new ReidException(
                $"cannot load ONNX Runtime (libonnxruntime.so from the Microsoft.ML.OnnxRuntime NuGet package): {LoadFailure(e)}; " +
                "run scripts/setup.sh (its dotnet restore and build copy the library beside the program)", e);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw new ReidException($"cannot create the ONNX Runtime environment: {OrtMessage(e)}", e);
        }
    }

    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;

    /// <summary>
    /// One line out of .NET's many: it lists every path it tried, each with dlopen's reason. A reason other than
    /// "No such file" (e.g. a libstdc++ too old for the library) is the one that matters.
    /// </summary>
    private static string LoadFailure(Exception e)
    {
        var lines = Innermost(e).Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return lines.Skip(1).FirstOrDefault(l => l.Contains("libonnxruntime.so:", StringComparison.Ordinal) && !l.EndsWith("No such file or directory", StringComparison.Ordinal))
            ?? $"not found in {Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native")}";
    }

    /// <summary>ORT's own message: the managed API prefixes it with "[ErrorCode:…] ", which users need not see.</summary>
    internal static string OrtMessage(Ort.OnnxRuntimeException e)
    {
        var m = e.Message;
        if (m.StartsWith("[ErrorCode:", StringComparison.Ordinal) && m.IndexOf("] ", StringComparison.Ordinal) is var end and > 0)
            m = m[(end + 2)..];
        return m.Trim();
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
