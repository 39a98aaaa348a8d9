using System.Runtime.InteropServices;
using Reid.Core;

namespace Reid.Inference.Native;

/// <summary>
/// ONNX Runtime's C API, reached the only way it is exported: OrtGetApiBase()->GetApi(version) returns a table of
/// function pointers in header declaration order (append-only, so an index stays valid on newer libraries).
/// Every table index the project uses is in <see cref="Index"/> and nowhere else.
/// </summary>
internal static unsafe class OrtApi
{
    /// <summary>The API version requested: ORT 1.30's. Older libraries refuse it (GetApi returns null).</summary>
    public const uint ApiVersion = 30;

    /// <summary>Positions in the OrtApi struct (onnxruntime_c_api.h, measured in /work/shared/notes/native-apis.md).</summary>
    private static class Index
    {
        public const int GetErrorCode = 1, GetErrorMessage = 2, CreateEnv = 3, CreateSession = 7,
            CreateSessionFromArray = 8, Run = 9, CreateSessionOptions = 10, SetSessionGraphOptimizationLevel = 23,
            SetIntraOpNumThreads = 24, SetInterOpNumThreads = 25, SessionGetInputCount = 30, SessionGetOutputCount = 31,
            SessionGetInputTypeInfo = 33, SessionGetOutputTypeInfo = 34, SessionGetInputName = 36,
            SessionGetOutputName = 37, CreateTensorWithDataAsOrtValue = 49, GetTensorMutableData = 51,
            CastTypeInfoToTensorInfo = 55, GetOnnxTypeFromTypeInfo = 56, GetTensorElementType = 60,
            GetDimensionsCount = 61, GetDimensions = 62, GetSymbolicDimensions = 63, GetTensorTypeAndShape = 65,
            CreateCpuMemoryInfo = 69, AllocatorFree = 76, GetAllocatorWithDefaultOptions = 78, ReleaseEnv = 92,
            ReleaseStatus = 93, ReleaseMemoryInfo = 94, ReleaseSession = 95, ReleaseValue = 96, ReleaseTypeInfo = 98,
            ReleaseTensorTypeAndShapeInfo = 99, ReleaseSessionOptions = 100, SessionGetModelMetadata = 111,
            ModelMetadataGetProducerName = 112, ModelMetadataGetGraphName = 113,
            ModelMetadataLookupCustomMetadataMap = 116, ReleaseModelMetadata = 118,
            ModelMetadataGetCustomMetadataMapKeys = 123;
    }

    private static IntPtr* _table;
    private static readonly object Gate = new();
    public static string Version { get; private set; } = "";
    public static string LibraryPath { get; private set; } = "";

    /// <summary>Loads the library and the API table once; throws a ReidException (every time) when it cannot.</summary>
    public static void EnsureLoaded()
    {
        if (_table != null) return;
        lock (Gate)
        {
            if (_table != null) return;
            var path = OrtLibrary.Locate();
            IntPtr lib;
            try { lib = NativeLibrary.Load(path); }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                throw new ReidException($"cannot load ONNX Runtime from {path}: {e.Message}", e);
            }
            if (!NativeLibrary.TryGetExport(lib, "OrtGetApiBase", out var getApiBasePtr))
                throw new ReidException($"{path} is not ONNX Runtime (no OrtGetApiBase)");
            var apiBase = ((delegate* unmanaged<IntPtr*>)getApiBasePtr)();
            var getApi = (delegate* unmanaged<uint, IntPtr*>)apiBase[0];
            var getVersion = (delegate* unmanaged<IntPtr>)apiBase[1];
            var version = Marshal.PtrToStringUTF8(getVersion()) ?? "?";
            var table = getApi(ApiVersion);
            if (table == null)
                throw new ReidException($"ONNX Runtime {version} at {path} does not offer API version {ApiVersion}; run scripts/setup.sh to install onnxruntime-node@1.30.0");
            (Version, LibraryPath) = (version, path);
            _table = table;
        }
    }

    private static IntPtr Fn(int index) => _table[index];

    /// <summary>Turns a non-null OrtStatus into an exception carrying ORT's message, and frees the status.</summary>
    public static void Check(IntPtr status, string context)
    {
        if (status == IntPtr.Zero) return;
        var message = Marshal.PtrToStringUTF8(((delegate* unmanaged<IntPtr, IntPtr>)Fn(Index.GetErrorMessage))(status)) ?? "unknown error";
        var code = ((delegate* unmanaged<IntPtr, int>)Fn(Index.GetErrorCode))(status);
        ((delegate* unmanaged<IntPtr, void>)Fn(Index.ReleaseStatus))(status);
        throw new OrtCallException(context, code, message);
    }

    // --- environment and options ---
    public static IntPtr CreateEnv(int logLevel, string logId)
    {
        IntPtr env;
        var id = Marshal.StringToCoTaskMemUTF8(logId);
        try { Check(((delegate* unmanaged<int, IntPtr, IntPtr*, IntPtr>)Fn(Index.CreateEnv))(logLevel, id, &env), "CreateEnv"); }
        finally { Marshal.FreeCoTaskMem(id); }
        return env;
    }

    public static IntPtr CreateSessionOptions()
    {
        IntPtr o;
        Check(((delegate* unmanaged<IntPtr*, IntPtr>)Fn(Index.CreateSessionOptions))(&o), "CreateSessionOptions");
        return o;
    }

    public static void SetIntraOpNumThreads(IntPtr options, int n) =>
        Check(((delegate* unmanaged<IntPtr, int, IntPtr>)Fn(Index.SetIntraOpNumThreads))(options, n), "SetIntraOpNumThreads");

    public static void SetInterOpNumThreads(IntPtr options, int n) =>
        Check(((delegate* unmanaged<IntPtr, int, IntPtr>)Fn(Index.SetInterOpNumThreads))(options, n), "SetInterOpNumThreads");

    public static void SetGraphOptimizationLevel(IntPtr options, int level) =>
        Check(((delegate* unmanaged<IntPtr, int, IntPtr>)Fn(Index.SetSessionGraphOptimizationLevel))(options, level), "SetSessionGraphOptimizationLevel");

    public static void ReleaseSessionOptions(IntPtr o) => ((delegate* unmanaged<IntPtr, void>)Fn(Index.ReleaseSessionOptions))(o);

    // --- sessions ---
    public static IntPtr CreateSession(IntPtr env, string path, IntPtr options)
    {
        IntPtr s;
        var p = Marshal.StringToCoTaskMemUTF8(path);   // ORTCHAR_T is char on Linux
        try { Check(((delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr*, IntPtr>)Fn(Index.CreateSession))(env, p, options, &s), "CreateSession"); }
        finally { Marshal.FreeCoTaskMem(p); }
        return s;
    }

    public static IntPtr CreateSessionFromArray(IntPtr env, ReadOnlySpan<byte> model, IntPtr options)
    {
        IntPtr s;
        fixed (byte* m = model)
            Check(((delegate* unmanaged<IntPtr, byte*, nuint, IntPtr, IntPtr*, IntPtr>)Fn(Index.CreateSessionFromArray))(env, m, (nuint)model.Length, options, &s), "CreateSessionFromArray");
        return s;
    }

    public static void ReleaseSession(IntPtr s) => ((delegate* unmanaged<IntPtr, void>)Fn(Index.ReleaseSession))(s);

    public static int InputCount(IntPtr session)
    {
        nuint n;
        Check(((delegate* unmanaged<IntPtr, nuint*, IntPtr>)Fn(Index.SessionGetInputCount))(session, &n), "SessionGetInputCount");
        return (int)n;
    }

    public static int OutputCount(IntPtr session)
    {
        nuint n;
        Check(((delegate* unmanaged<IntPtr, nuint*, IntPtr>)Fn(Index.SessionGetOutputCount))(session, &n), "SessionGetOutputCount");
        return (int)n;
    }

    public static string InputName(IntPtr session, int i) => NameAt(Index.SessionGetInputName, session, i);
    public static string OutputName(IntPtr session, int i) => NameAt(Index.SessionGetOutputName, session, i);

    private static string NameAt(int fn, IntPtr session, int i)
    {
        var alloc = DefaultAllocator();
        IntPtr name;
        Check(((delegate* unmanaged<IntPtr, nuint, IntPtr, IntPtr*, IntPtr>)Fn(fn))(session, (nuint)i, alloc, &name), "SessionGetName");
        return TakeString(alloc, name);
    }

    /// <summary>Element type, dims (-1 when dynamic) and symbolic dim names of input/output <paramref name="i"/>.</summary>
    public static (int OnnxType, int ElementType, long[] Dims, string[] Symbols) TypeInfo(IntPtr session, int i, bool input)
    {
        IntPtr typeInfo;
        Check(((delegate* unmanaged<IntPtr, nuint, IntPtr*, IntPtr>)Fn(input ? Index.SessionGetInputTypeInfo : Index.SessionGetOutputTypeInfo))(session, (nuint)i, &typeInfo), "SessionGetTypeInfo");
        try
        {
            int onnxType;
            Check(((delegate* unmanaged<IntPtr, int*, IntPtr>)Fn(Index.GetOnnxTypeFromTypeInfo))(typeInfo, &onnxType), "GetOnnxTypeFromTypeInfo");
            IntPtr tensorInfo;   // owned by typeInfo: not released separately
            Check(((delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)Fn(Index.CastTypeInfoToTensorInfo))(typeInfo, &tensorInfo), "CastTypeInfoToTensorInfo");
            if (tensorInfo == IntPtr.Zero) return (onnxType, 0, [], []);
            var (element, dims) = ShapeOf(tensorInfo);
            var symbols = new IntPtr[dims.Length];
            fixed (IntPtr* s = symbols)
                Check(((delegate* unmanaged<IntPtr, IntPtr*, nuint, IntPtr>)Fn(Index.GetSymbolicDimensions))(tensorInfo, s, (nuint)dims.Length), "GetSymbolicDimensions");
            return (onnxType, element, dims, symbols.Select(p => p == IntPtr.Zero ? "" : Marshal.PtrToStringUTF8(p) ?? "").ToArray());
        }
        finally
        {
            ((delegate* unmanaged<IntPtr, void>)Fn(Index.ReleaseTypeInfo))(typeInfo);
        }
    }

    private static (int Element, long[] Dims) ShapeOf(IntPtr tensorInfo)
    {
        int element;
        Check(((delegate* unmanaged<IntPtr, int*, IntPtr>)Fn(Index.GetTensorElementType))(tensorInfo, &element), "GetTensorElementType");
        nuint count;
        Check(((delegate* unmanaged<IntPtr, nuint*, IntPtr>)Fn(Index.GetDimensionsCount))(tensorInfo, &count), "GetDimensionsCount");
        var dims = new long[(int)count];
        fixed (long* d = dims)
            Check(((delegate* unmanaged<IntPtr, long*, nuint, IntPtr>)Fn(Index.GetDimensions))(tensorInfo, d, count), "GetDimensions");
        return (element, dims);
    }

    // --- metadata ---
    public static Dictionary<string, string> CustomMetadata(IntPtr session, out string producer, out string graphName)
    {
        IntPtr meta;
        Check(((delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)Fn(Index.SessionGetModelMetadata))(session, &meta), "SessionGetModelMetadata");
        var alloc = DefaultAllocator();
        try
        {
            IntPtr s;
            Check(((delegate* unmanaged<IntPtr, IntPtr, IntPtr*, IntPtr>)Fn(Index.ModelMetadataGetProducerName))(meta, alloc, &s), "ModelMetadataGetProducerName");
            producer = TakeString(alloc, s);
            Check(((delegate* unmanaged<IntPtr, IntPtr, IntPtr*, IntPtr>)Fn(Index.ModelMetadataGetGraphName))(meta, alloc, &s), "ModelMetadataGetGraphName");
            graphName = TakeString(alloc, s);

            IntPtr keys;
            long n;
            Check(((delegate* unmanaged<IntPtr, IntPtr, IntPtr*, long*, IntPtr>)Fn(Index.ModelMetadataGetCustomMetadataMapKeys))(meta, alloc, &keys, &n), "ModelMetadataGetCustomMetadataMapKeys");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (keys == IntPtr.Zero) return result;
            try
            {
                for (var i = 0; i < n; i++)
                {
                    var keyPtr = ((IntPtr*)keys)[i];
                    var key = TakeString(alloc, keyPtr);
                    IntPtr value;
                    var k = Marshal.StringToCoTaskMemUTF8(key);
                    try { Check(((delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr*, IntPtr>)Fn(Index.ModelMetadataLookupCustomMetadataMap))(meta, alloc, k, &value), "ModelMetadataLookupCustomMetadataMap"); }
                    finally { Marshal.FreeCoTaskMem(k); }
                    result[key] = value == IntPtr.Zero ? "" : TakeString(alloc, value);
                }
            }
            finally { Free(alloc, keys); }
            return result;
        }
        finally
        {
            ((delegate* unmanaged<IntPtr, void>)Fn(Index.ReleaseModelMetadata))(meta);
        }
    }

    // --- tensors and run ---
    public static IntPtr CreateCpuMemoryInfo()
    {
        IntPtr info;
        const int arenaAllocator = 1, memTypeDefault = 0;
        Check(((delegate* unmanaged<int, int, IntPtr*, IntPtr>)Fn(Index.CreateCpuMemoryInfo))(arenaAllocator, memTypeDefault, &info), "CreateCpuMemoryInfo");
        return info;
    }

    /// <summary>A tensor over caller memory (no copy): the memory must stay pinned until the value is released.</summary>
    public static IntPtr CreateTensor(IntPtr memoryInfo, void* data, long bytes, ReadOnlySpan<long> shape, int elementType)
    {
        IntPtr value;
        fixed (long* s = shape)
            Check(((delegate* unmanaged<IntPtr, void*, nuint, long*, nuint, int, IntPtr*, IntPtr>)Fn(Index.CreateTensorWithDataAsOrtValue))(
                memoryInfo, data, (nuint)bytes, s, (nuint)shape.Length, elementType, &value), "CreateTensorWithDataAsOrtValue");
        return value;
    }

    public static void Run(IntPtr session, IntPtr[] inputNames, IntPtr[] inputs, IntPtr[] outputNames, IntPtr[] outputs)
    {
        fixed (IntPtr* inN = inputNames, inV = inputs, outN = outputNames, outV = outputs)
            Check(((delegate* unmanaged<IntPtr, IntPtr, IntPtr*, IntPtr*, nuint, IntPtr*, nuint, IntPtr*, IntPtr>)Fn(Index.Run))(
                session, IntPtr.Zero, inN, inV, (nuint)inputs.Length, outN, (nuint)outputNames.Length, outV), "Run");
    }

    public static (int ElementType, long[] Dims) ValueShape(IntPtr value)
    {
        IntPtr info;
        Check(((delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)Fn(Index.GetTensorTypeAndShape))(value, &info), "GetTensorTypeAndShape");
        try { return ShapeOf(info); }
        finally { ((delegate* unmanaged<IntPtr, void>)Fn(Index.ReleaseTensorTypeAndShapeInfo))(info); }
    }

    public static void* TensorData(IntPtr value)
    {
        void* p;
        Check(((delegate* unmanaged<IntPtr, void**, IntPtr>)Fn(Index.GetTensorMutableData))(value, &p), "GetTensorMutableData");
        return p;
    }

    public static void ReleaseValue(IntPtr v) { if (v != IntPtr.Zero) ((delegate* unmanaged<IntPtr, void>)Fn(Index.ReleaseValue))(v); }
    public static void ReleaseMemoryInfo(IntPtr m) => ((delegate* unmanaged<IntPtr, void>)Fn(Index.ReleaseMemoryInfo))(m);
    public static void ReleaseEnv(IntPtr e) => ((delegate* unmanaged<IntPtr, void>)Fn(Index.ReleaseEnv))(e);

    // --- allocator helpers ---
    private static IntPtr DefaultAllocator()
    {
        IntPtr a;
        Check(((delegate* unmanaged<IntPtr*, IntPtr>)Fn(Index.GetAllocatorWithDefaultOptions))(&a), "GetAllocatorWithDefaultOptions");
        return a;
    }

    private static void Free(IntPtr allocator, IntPtr p) =>
        Check(((delegate* unmanaged<IntPtr, IntPtr, IntPtr>)Fn(Index.AllocatorFree))(allocator, p), "AllocatorFree");

    private static string TakeString(IntPtr allocator, IntPtr p)
    {
        if (p == IntPtr.Zero) return "";
        try { return Marshal.PtrToStringUTF8(p) ?? ""; }
        finally { Free(allocator, p); }
    }
}

/// <summary>A failed ORT call: the API function, ORT's error code and its message.</summary>
internal sealed class OrtCallException(string function, int code, string message)
    : Exception($"{function}: {message}")
{
    public string Function { get; } = function;
    public int Code { get; } = code;
    public string OrtMessage { get; } = message;
}

/// <summary>Finds libonnxruntime.so.1: REID_ORT_LIB, else the copy scripts/setup.sh installs under .deps.</summary>
internal static class OrtLibrary
{
    public const string RelativePath = ".deps/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1";

    public static string Locate()
    {
        var env = Environment.GetEnvironmentVariable("REID_ORT_LIB");
        if (!string.IsNullOrEmpty(env))
            return File.Exists(env) ? env : throw new ReidException($"REID_ORT_LIB points to {env}, which does not exist");
        var root = ProjectPaths.RepoRoot;
        if (root is not null)
        {
            var path = Path.Combine(root, RelativePath);
            if (File.Exists(path)) return path;
        }
        throw new ReidException(
            $"ONNX Runtime library not found (looked in {(root is null ? "<no repository>" : Path.Combine(root, RelativePath))}); " +
            "run scripts/setup.sh, or set REID_ORT_LIB to a libonnxruntime.so.1 (1.30 or newer)");
    }
}
