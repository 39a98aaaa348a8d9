using System.Buffers;
using System.Runtime.InteropServices;
using Reid.Core;
using Reid.Inference.Native;
using Reid.Onnx;

namespace Reid.Inference;

/// <summary>
/// One loaded ONNX model. <see cref="Run(ReadOnlyMemory{float}, ReadOnlySpan{long}, out long[])"/> is thread-safe (ORT
/// allows concurrent runs on a session). Every ORT failure becomes an <see cref="OnnxModelException"/> with ORT's
/// message, the model's name and its expected inputs.
/// </summary>
public sealed class InferenceSession : IDisposable
{
    private readonly SessionHandle _handle;
    private readonly IntPtr[] _inputNamePtrs, _outputNamePtrs;

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
        var rt = OnnxRuntime.Instance;
        return Create(path, options, o => OrtApi.CreateSession(rt.Env, path, o));
    }

    public static InferenceSession FromBytes(byte[] model, string name, SessionOptions? options = null)
    {
        if (model.Length == 0) throw new OnnxModelException($"{name}: empty model (0 bytes)");
        var rt = OnnxRuntime.Instance;
        return Create(name, options, o => OrtApi.CreateSessionFromArray(rt.Env, model, o));
    }

    private static InferenceSession Create(string name, SessionOptions? options, Func<IntPtr, IntPtr> create)
    {
        options ??= SessionOptions.Default;
        var o = OrtApi.CreateSessionOptions();
        try
        {
            OrtApi.SetIntraOpNumThreads(o, options.IntraOpThreads);
            OrtApi.SetInterOpNumThreads(o, options.InterOpThreads);
            OrtApi.SetGraphOptimizationLevel(o, (int)options.Optimization);
            IntPtr session;
            try { session = create(o); }
            catch (OrtCallException e) { throw new OnnxModelException($"{name}: ONNX Runtime cannot load the model: {e.OrtMessage}", e); }
            return new InferenceSession(name, new SessionHandle(session));
        }
        finally
        {
            OrtApi.ReleaseSessionOptions(o);
        }
    }

    private InferenceSession(string name, SessionHandle handle)
    {
        ModelName = name;
        _handle = handle;
        var s = handle.DangerousGetHandle();
        try
        {
            Inputs = Enumerable.Range(0, OrtApi.InputCount(s)).Select(i => Describe(s, i, input: true)).ToArray();
            Outputs = Enumerable.Range(0, OrtApi.OutputCount(s)).Select(i => Describe(s, i, input: false)).ToArray();
            Metadata = OrtApi.CustomMetadata(s, out var producer, out var graph);
            (ProducerName, GraphName) = (producer, graph);
        }
        catch (OrtCallException e)
        {
            handle.Dispose();
            throw new OnnxModelException($"{name}: cannot read the model's signature: {e.OrtMessage}", e);
        }
        _inputNamePtrs = Inputs.Select(i => Marshal.StringToCoTaskMemUTF8(i.Name)).ToArray();
        _outputNamePtrs = Outputs.Select(i => Marshal.StringToCoTaskMemUTF8(i.Name)).ToArray();
    }

    private static TensorInfo Describe(IntPtr session, int i, bool input)
    {
        var name = input ? OrtApi.InputName(session, i) : OrtApi.OutputName(session, i);
        var (_, element, dims, symbols) = OrtApi.TypeInfo(session, i, input);
        return new TensorInfo(name, (TensorElementType)element, dims, symbols);
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
        var result = RunCore([Inputs[0].Name], [(input, shape.ToArray())], [Outputs[0].Name])[0];
        if (result.Data is null)
            throw new OnnxModelException($"{ModelName}: output {Outputs[0]} is not float");
        outputShape = result.Shape;
        return result.Data;
    }

    /// <summary>Runs with named float inputs; returns the requested outputs (all of them when null), in that order.</summary>
    public IReadOnlyList<Tensor> Run(IReadOnlyList<NamedInput> inputs, IReadOnlyList<string>? outputNames = null)
    {
        var names = inputs.Select(i => i.Name).ToArray();
        var data = new (float[] Data, long[] Shape)[inputs.Count];
        for (var i = 0; i < inputs.Count; i++) data[i] = (inputs[i].Data, inputs[i].Shape);
        return RunCore(names, data.Select(d => ((ReadOnlyMemory<float>)d.Data, d.Shape)).ToArray(), outputNames ?? Outputs.Select(o => o.Name).ToArray());
    }

    private IReadOnlyList<Tensor> RunCore(string[] inputNames, (ReadOnlyMemory<float> Data, long[] Shape)[] inputs, IReadOnlyList<string> outputNames)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var inPtrs = inputNames.Select(n => NamePtr(_inputNamePtrs, Inputs, n, "input")).ToArray();
        var outPtrs = outputNames.Select(n => NamePtr(_outputNamePtrs, Outputs, n, "output")).ToArray();
        for (var i = 0; i < inputs.Length; i++)
        {
            var (d, shape) = inputs[i];
            var count = shape.Aggregate(1L, (a, x) => a * x);
            if (shape.Any(x => x < 0) || count != d.Length)
                throw new OnnxModelException($"{ModelName}: input '{inputNames[i]}' has {d.Length} values for shape [{string.Join(",", shape)}]; {ExpectedInputs}");
        }
        var rt = OnnxRuntime.Instance;
        var pins = new MemoryHandle[inputs.Length];
        var values = new IntPtr[inputs.Length];
        var outputs = new IntPtr[outPtrs.Length];
        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            unsafe
            {
                for (var i = 0; i < inputs.Length; i++)
                {
                    pins[i] = inputs[i].Data.Pin();
                    values[i] = OrtApi.CreateTensor(rt.CpuMemory, pins[i].Pointer, 4L * inputs[i].Data.Length, inputs[i].Shape, (int)TensorElementType.Float);
                }
            }
            OrtApi.Run(_handle.DangerousGetHandle(), inPtrs, values, outPtrs, outputs);
            var result = new Tensor[outputs.Length];
            for (var i = 0; i < outputs.Length; i++)
            {
                var (element, dims) = OrtApi.ValueShape(outputs[i]);
                float[]? floats = null;
                if (element == (int)TensorElementType.Float)
                {
                    floats = new float[dims.Aggregate(1L, (a, x) => a * x)];
                    unsafe { new ReadOnlySpan<float>(OrtApi.TensorData(outputs[i]), floats.Length).CopyTo(floats); }
                }
                result[i] = new Tensor(outputNames[i], (TensorElementType)element, dims, floats);
            }
            return result;
        }
        catch (OrtCallException e)
        {
            throw new OnnxModelException($"{ModelName}: ONNX Runtime: {e.OrtMessage.TrimEnd('.', ' ')}; {ExpectedInputs}", e);
        }
        finally
        {
            foreach (var v in outputs) OrtApi.ReleaseValue(v);
            foreach (var v in values) OrtApi.ReleaseValue(v);
            foreach (var p in pins) p.Dispose();
            if (added) _handle.DangerousRelease();
        }
    }

    private IntPtr NamePtr(IntPtr[] ptrs, IReadOnlyList<TensorInfo> infos, string name, string what)
    {
        for (var i = 0; i < infos.Count; i++)
            if (infos[i].Name == name) return ptrs[i];
        throw new OnnxModelException($"{ModelName}: no {what} named '{name}' (the model has {string.Join(", ", infos.Select(x => $"'{x.Name}'"))})");
    }

    public void Dispose()
    {
        if (_handle.IsClosed) return;
        _handle.Dispose();
        foreach (var p in _inputNamePtrs.Concat(_outputNamePtrs)) Marshal.FreeCoTaskMem(p);
    }

    private sealed class SessionHandle : SafeHandle
    {
        public SessionHandle(IntPtr h) : base(IntPtr.Zero, true) => SetHandle(h);
        public override bool IsInvalid => handle == IntPtr.Zero;
        protected override bool ReleaseHandle() { OrtApi.ReleaseSession(handle); return true; }
    }
}
