using System.Runtime.InteropServices;
using Reid.Core;
using Reid.Onnx;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Reid.Inference;

/// <summary>
/// One loaded ONNX model. <see cref="Run(ReadOnlyMemory{float}, ReadOnlySpan{long}, out long[])"/> is thread-safe (ORT
/// allows concurrent runs on a session). Every ORT failure becomes an <see cref="OnnxModelException"/> with ORT's
/// message, the model's name and its expected inputs.
/// </summary>
public sealed class InferenceSession : IDisposable
{
    private readonly Ort.InferenceSession _session;
    private readonly Ort.RunOptions _runOptions;
    private readonly string[] _firstInputName, _firstOutputName, _allOutputNames;
    private readonly RunGate _gate;

    /// <summary>The file path, or the name given with the bytes; used in every error message.</summary>
    public string ModelName { get; }
    public IReadOnlyList<TensorInfo> Inputs { get; }
    public IReadOnlyList<TensorInfo> Outputs { get; }
    /// <summary>The model's custom metadata map (ONNX metadata_props).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public string ProducerName { get; }
    public string GraphName { get; }

    public static InferenceSession Open(string path, SessionOptions? options = null)
    {
        if (!File.Exists(path)) throw new ReidException($"{path}: ONNX model not found");
        if (new FileInfo(path).Length == 0) throw new OnnxModelException($"{path}: empty file (0 bytes), not an ONNX model");
        return Create(path, options, o => new Ort.InferenceSession(path, o));
    }

    public static InferenceSession FromBytes(byte[] model, string name, SessionOptions? options = null)
    {
        if (model.Length == 0) throw new OnnxModelException($"{name}: empty model (0 bytes)");
        return Create(name, options, o => new Ort.InferenceSession(model, o));
    }

    private static InferenceSession Create(string name, SessionOptions? options, Func<Ort.SessionOptions, Ort.InferenceSession> create)
    {
        options ??= SessionOptions.Default;
        _ = OnnxRuntime.Instance;   // the environment first: a missing native library is its own clear error, not a model error
        Ort.InferenceSession session;
        using (var o = new Ort.SessionOptions())
        {
            // Only what the old C-API binding set; everything else keeps ORT's defaults (CPU arena, memory pattern,
            // sequential execution), which are what ORT tunes for.
            o.IntraOpNumThreads = options.IntraOpThreads;
            o.InterOpNumThreads = options.InterOpThreads;
            o.GraphOptimizationLevel = options.Optimization switch
            {
                GraphOptimization.None => Ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
                GraphOptimization.Basic => Ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                GraphOptimization.Extended => Ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => Ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            o.LogSeverityLevel = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
            try { session = create(o); }
            catch (Exception e) when (IsModelError(e))
            {
                throw new OnnxModelException($"{name}: ONNX Runtime cannot load the model: {Message(e)}", e);
            }
        }
        try { return new InferenceSession(name, session); }
        catch { session.Dispose(); throw; }
    }

    private InferenceSession(string name, Ort.InferenceSession session)
    {
        ModelName = name;
        _session = session;
        try
        {
            Inputs = session.InputNames.Select(n => Describe(n, session.InputMetadata[n])).ToArray();
            Outputs = session.OutputNames.Select(n => Describe(n, session.OutputMetadata[n])).ToArray();
            var meta = session.ModelMetadata;
            Metadata = new Dictionary<string, string>(meta.CustomMetadataMap, StringComparer.Ordinal);
            (ProducerName, GraphName) = (meta.ProducerName ?? "", meta.GraphName ?? "");
        }
        catch (Exception e) when (IsModelError(e))
        {
            throw new OnnxModelException($"{name}: cannot read the model's signature: {Message(e)}", e);
        }
        _firstInputName = Inputs.Count > 0 ? [Inputs[0].Name] : [];
        _firstOutputName = Outputs.Count > 0 ? [Outputs[0].Name] : [];
        _allOutputNames = Outputs.Select(o => o.Name).ToArray();
        _runOptions = new Ort.RunOptions { LogSeverityLevel = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        _gate = new RunGate(Release);
    }

    private static TensorInfo Describe(string name, Ort.NodeMetadata m)
    {
        if (!m.IsTensor) return new TensorInfo(name, TensorElementType.Undefined, [], []);
        var dims = m.Dimensions.Select(d => (long)d).ToArray();
        var symbols = m.SymbolicDimensions is { Length: var n } s && n == dims.Length ? s.Select(x => x ?? "").ToArray() : new string[dims.Length];
        for (var i = 0; i < symbols.Length; i++) symbols[i] ??= "";
        return new TensorInfo(name, (TensorElementType)(int)m.ElementDataType, dims, symbols);
    }

    /// <summary>What the model takes, for error messages: "expects input 'x' float[batch,3,256,128]".</summary>
    public string ExpectedInputs => Inputs.Count == 1
        ? $"the model expects input {Inputs[0]}"
        : $"the model expects inputs {string.Join(", ", Inputs)}";

    /// <summary>Runs a single-input model on one float tensor and returns its first output.</summary>
    public float[] Run(ReadOnlyMemory<float> input, ReadOnlySpan<long> shape, out long[] outputShape)
    {
        if (Inputs.Count != 1)
            throw new OnnxModelException($"{ModelName}: {Inputs.Count} inputs, but one tensor was given; {ExpectedInputs}");
        var result = RunCore(_firstInputName, [(input, shape.ToArray())], _firstOutputName)[0];
        if (result.Data is null)
            throw new OnnxModelException($"{ModelName}: output {Outputs[0]} is not float");
        outputShape = result.Shape;
        return result.Data;
    }

    /// <summary>Runs with named float inputs; returns the requested outputs (all of them when null), in that order.</summary>
    public IReadOnlyList<Tensor> Run(IReadOnlyList<NamedInput> inputs, IReadOnlyList<string>? outputNames = null)
    {
        var names = new string[inputs.Count];
        var data = new (ReadOnlyMemory<float>, long[])[inputs.Count];
        for (var i = 0; i < inputs.Count; i++) (names[i], data[i]) = (inputs[i].Name, (inputs[i].Data, inputs[i].Shape));
        return RunCore(names, data, outputNames?.ToArray() ?? _allOutputNames);
    }

    private Tensor[] RunCore(string[] inputNames, (ReadOnlyMemory<float> Data, long[] Shape)[] inputs, string[] outputNames)
    {
        ObjectDisposedException.ThrowIf(_gate.IsDisposed, this);
        foreach (var n in inputNames) CheckName(Inputs, n, "input");
        foreach (var n in outputNames) CheckName(Outputs, n, "output");
        for (var i = 0; i < inputs.Length; i++)
        {
            var (d, shape) = inputs[i];
            var count = shape.Aggregate(1L, (a, x) => a * x);
            if (shape.Any(x => x < 0) || count != d.Length)
                throw new OnnxModelException($"{ModelName}: input '{inputNames[i]}' has {d.Length} values for shape [{string.Join(",", shape)}]; {ExpectedInputs}");
        }
        if (!_gate.TryEnter()) throw new ObjectDisposedException(GetType().FullName);
        var values = new Ort.OrtValue?[inputs.Length];
        try
        {
            // Tensors over the caller's memory, pinned until the values are disposed: no copy of the batch. ORT
            // only reads inputs, so viewing the ReadOnlyMemory as Memory is safe.
            for (var i = 0; i < inputs.Length; i++)
                values[i] = Ort.OrtValue.CreateTensorValueFromMemory(Ort.OrtMemoryInfo.DefaultInstance, MemoryMarshal.AsMemory(inputs[i].Data), inputs[i].Shape);
            using var outputs = _session.Run(_runOptions, inputNames, values!, outputNames);
            var result = new Tensor[outputNames.Length];
            var k = 0;
            foreach (var v in outputs)
            {
                if (!v.IsTensor)
                    throw new OnnxModelException($"{ModelName}: output '{outputNames[k]}' is a {v.OnnxType}, not a tensor");
                var info = v.GetTensorTypeAndShape();
                var element = (TensorElementType)(int)info.ElementDataType;
                var floats = element == TensorElementType.Float ? v.GetTensorDataAsSpan<float>().ToArray() : null;
                result[k] = new Tensor(outputNames[k], element, info.Shape, floats);
                k++;
            }
            return result;
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw new OnnxModelException($"{ModelName}: ONNX Runtime: {OnnxRuntime.OrtMessage(e).TrimEnd('.', ' ')}; {ExpectedInputs}", e);
        }
        finally
        {
            foreach (var v in values) v?.Dispose();
            _gate.Exit();
        }
    }

    private void CheckName(IReadOnlyList<TensorInfo> infos, string name, string what)
    {
        for (var i = 0; i < infos.Count; i++)
            if (infos[i].Name == name) return;
        throw new OnnxModelException($"{ModelName}: no {what} named '{name}' (the model has {string.Join(", ", infos.Select(x => $"'{x.Name}'"))})");
    }

    /// <summary>Load-time failures that are about the model: ORT's own, and the managed API refusing what it read.</summary>
    private static bool IsModelError(Exception e) => e is Ort.OnnxRuntimeException or ArgumentException or NotSupportedException or KeyNotFoundException;

    private static string Message(Exception e) => e is Ort.OnnxRuntimeException o ? OnnxRuntime.OrtMessage(o) : e.Message;

    /// <summary>Frees the native session now, or when the last run in flight on another thread ends.</summary>
    public void Dispose() => _gate.Dispose();

    private void Release()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    /// <summary>
    /// Counts runs in flight so that Dispose never frees the native session under a concurrent Run (which would
    /// crash the process rather than throw). Both sides publish with a full fence before reading the other's
    /// field, so exactly one of them sees the count reach zero after disposal and releases.
    /// </summary>
    private sealed class RunGate(Action release)
    {
        private int _running, _disposed, _released;

        public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

        public bool TryEnter()
        {
            Interlocked.Increment(ref _running);
            if (Volatile.Read(ref _disposed) == 0) return true;
            Exit();
            return false;
        }

        public void Exit()
        {
            if (Interlocked.Decrement(ref _running) == 0 && Volatile.Read(ref _disposed) != 0) ReleaseOnce();
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            if (Volatile.Read(ref _running) == 0) ReleaseOnce();
        }

        private void ReleaseOnce()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) release();
        }
    }
}
