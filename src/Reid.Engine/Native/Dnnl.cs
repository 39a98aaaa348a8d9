using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Reid.Engine.Native;

/// <summary>
/// P/Invoke declarations for the oneDNN 2.6 C API (libdnnl.so.2). The 2.x API initialises operation
/// descriptors into large structs passed by pointer; we treat them as opaque byte blocks of the sizes
/// measured against the 2.6.3 headers (see the Blob types below). Enum values come from dnnl_types.h.
/// </summary>
internal static unsafe partial class Dnnl
{
    private const string Lib = "libdnnl.so.2";

    // dnnl_data_type_t
    public const int F32 = 3, BF16 = 2;
    // dnnl_format_tag_t
    public const int TagAny = 1, TagA = 2, TagAB = 3, TagABC = 4, TagABCD = 5, TagABCDE = 7, TagBA = 22;
    // activation layouts of [N,C,H,W]: nhwc and channel-blocked nChw16c / nChw8c / nChw4c
    public const int TagACDB = 20, TagABcd16b = 69, TagABcd8b = 93, TagABcd4b = 75;
    // dnnl_prop_kind_t
    public const int ForwardTraining = 64, ForwardInference = 96, Backward = 128, BackwardData = 160, BackwardWeights = 192;
    // dnnl_alg_kind_t
    public const int BinaryAdd = 0x1fff0, BinaryMul = 0x1fff1, ReductionSum = 0x2fff4, ReductionMean = 0x2fff6;
    public const int ConvolutionDirect = 1, EltwiseRelu = 31, EltwiseLogistic = 175, EltwiseClipV2 = 16,
        EltwiseHardswish = 112, EltwiseGeluErf = 48, EltwiseReluUseDst = 256, EltwiseLogisticUseDst = 260,
        PoolingMax = 511, PoolingAvgIncludePadding = 767, PoolingAvgExcludePadding = 1023;
    // dnnl_normalization_flags_t
    public const uint UseGlobalStats = 1, UseScale = 8, UseShift = 16;
    // DNNL_ARG_*
    public const int ArgSrc = 1, ArgSrc1 = 2, ArgDst = 17, ArgWeights = 33, ArgBias = 41, ArgMean = 49, ArgVariance = 50,
        ArgScale = 51, ArgShift = 52, ArgWorkspace = 64, ArgDiffSrc = 129, ArgDiffDst = 145,
        ArgDiffWeights = 161, ArgDiffBias = 169, ArgDiffScale = 255, ArgDiffShift = 256;
    // dnnl_query_t
    public const int QuerySrcMd = 129, QueryDiffSrcMd = 130, QueryWeightsMd = 131, QueryDiffWeightsMd = 132,
        QueryDstMd = 133, QueryDiffDstMd = 134, QueryWorkspaceMd = 135, QueryImplInfoStr = 8;
    public const int EngineCpu = 1;
    public const uint StreamDefaultFlags = 1;
    public const int Success = 0;
    public const int MaxDims = 12;

    [StructLayout(LayoutKind.Sequential)]
    public struct Version
    {
        public int Major, Minor, Patch;
        public IntPtr Hash;
        public uint CpuRuntime, GpuRuntime;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct ExecArg
    {
        public int Arg;
        public IntPtr Memory;
    }

    /// <summary>dnnl_memory_desc_t: 696 bytes in 2.6.3.</summary>
    [InlineArray(696)]
    public struct MemoryDesc { private byte _b; }

    /// <summary>Large enough for every operation descriptor we use (the convolution one, 5,976 bytes, is the largest).</summary>
    [InlineArray(6144)]
    public struct OpDesc { private byte _b; }

    /// <summary>dnnl_dims_t: 12 x int64.</summary>
    [InlineArray(MaxDims)]
    public struct Dims { private long _d; }

    [LibraryImport(Lib, EntryPoint = "dnnl_version")]
    public static partial Version* version();

    [LibraryImport(Lib, EntryPoint = "dnnl_get_effective_cpu_isa")]
    public static partial int get_effective_cpu_isa();

    [LibraryImport(Lib, EntryPoint = "dnnl_engine_create")]
    public static partial int engine_create(out IntPtr engine, int kind, nuint index);

    [LibraryImport(Lib, EntryPoint = "dnnl_stream_create")]
    public static partial int stream_create(out IntPtr stream, IntPtr engine, uint flags);

    [LibraryImport(Lib, EntryPoint = "dnnl_memory_desc_init_by_tag")]
    public static partial int memory_desc_init_by_tag(MemoryDesc* md, int ndims, Dims* dims, int dataType, int tag);

    [LibraryImport(Lib, EntryPoint = "dnnl_memory_desc_get_size")]
    public static partial nuint memory_desc_get_size(MemoryDesc* md);

    [LibraryImport(Lib, EntryPoint = "dnnl_memory_desc_equal")]
    public static partial int memory_desc_equal(MemoryDesc* a, MemoryDesc* b);

    [LibraryImport(Lib, EntryPoint = "dnnl_memory_create")]
    public static partial int memory_create(out IntPtr memory, MemoryDesc* md, IntPtr engine, IntPtr handle);

    [LibraryImport(Lib, EntryPoint = "dnnl_memory_set_data_handle")]
    public static partial int memory_set_data_handle(IntPtr memory, IntPtr handle);

    [LibraryImport(Lib, EntryPoint = "dnnl_memory_destroy")]
    public static partial int memory_destroy(IntPtr memory);

    [LibraryImport(Lib, EntryPoint = "dnnl_primitive_desc_create")]
    public static partial int primitive_desc_create(out IntPtr pd, OpDesc* opDesc, IntPtr attr, IntPtr engine, IntPtr hintForward);

    [LibraryImport(Lib, EntryPoint = "dnnl_primitive_desc_query_md")]
    public static partial MemoryDesc* primitive_desc_query_md(IntPtr pd, int what, int index);

    [LibraryImport(Lib, EntryPoint = "dnnl_primitive_desc_query")]
    public static partial int primitive_desc_query(IntPtr pd, int what, int index, void* result);

    [LibraryImport(Lib, EntryPoint = "dnnl_primitive_desc_destroy")]
    public static partial int primitive_desc_destroy(IntPtr pd);

    [LibraryImport(Lib, EntryPoint = "dnnl_primitive_create")]
    public static partial int primitive_create(out IntPtr primitive, IntPtr pd);

    [LibraryImport(Lib, EntryPoint = "dnnl_primitive_execute")]
    public static partial int primitive_execute(IntPtr primitive, IntPtr stream, int nargs, ExecArg* args);

    [LibraryImport(Lib, EntryPoint = "dnnl_stream_wait")]
    public static partial int stream_wait(IntPtr stream);

    [LibraryImport(Lib, EntryPoint = "dnnl_reorder_primitive_desc_create")]
    public static partial int reorder_primitive_desc_create(out IntPtr pd, MemoryDesc* src, IntPtr srcEngine, MemoryDesc* dst, IntPtr dstEngine, IntPtr attr);

    [LibraryImport(Lib, EntryPoint = "dnnl_dilated_convolution_forward_desc_init")]
    public static partial int dilated_convolution_forward_desc_init(OpDesc* desc, int prop, int alg, MemoryDesc* src, MemoryDesc* weights, MemoryDesc* bias, MemoryDesc* dst, Dims* strides, Dims* dilates, Dims* padL, Dims* padR);

    [LibraryImport(Lib, EntryPoint = "dnnl_dilated_convolution_backward_data_desc_init")]
    public static partial int dilated_convolution_backward_data_desc_init(OpDesc* desc, int alg, MemoryDesc* diffSrc, MemoryDesc* weights, MemoryDesc* diffDst, Dims* strides, Dims* dilates, Dims* padL, Dims* padR);

    [LibraryImport(Lib, EntryPoint = "dnnl_dilated_convolution_backward_weights_desc_init")]
    public static partial int dilated_convolution_backward_weights_desc_init(OpDesc* desc, int alg, MemoryDesc* src, MemoryDesc* diffWeights, MemoryDesc* diffBias, MemoryDesc* diffDst, Dims* strides, Dims* dilates, Dims* padL, Dims* padR);

    [LibraryImport(Lib, EntryPoint = "dnnl_batch_normalization_forward_desc_init")]
    public static partial int batch_normalization_forward_desc_init(OpDesc* desc, int prop, MemoryDesc* data, float epsilon, uint flags);

    [LibraryImport(Lib, EntryPoint = "dnnl_batch_normalization_backward_desc_init")]
    public static partial int batch_normalization_backward_desc_init(OpDesc* desc, int prop, MemoryDesc* diffData, MemoryDesc* data, float epsilon, uint flags);

    [LibraryImport(Lib, EntryPoint = "dnnl_pooling_v2_forward_desc_init")]
    public static partial int pooling_v2_forward_desc_init(OpDesc* desc, int prop, int alg, MemoryDesc* src, MemoryDesc* dst, Dims* strides, Dims* kernel, Dims* dilation, Dims* padL, Dims* padR);

    [LibraryImport(Lib, EntryPoint = "dnnl_pooling_v2_backward_desc_init")]
    public static partial int pooling_v2_backward_desc_init(OpDesc* desc, int alg, MemoryDesc* diffSrc, MemoryDesc* diffDst, Dims* strides, Dims* kernel, Dims* dilation, Dims* padL, Dims* padR);

    [LibraryImport(Lib, EntryPoint = "dnnl_eltwise_forward_desc_init")]
    public static partial int eltwise_forward_desc_init(OpDesc* desc, int prop, int alg, MemoryDesc* data, float alpha, float beta);

    [LibraryImport(Lib, EntryPoint = "dnnl_eltwise_backward_desc_init")]
    public static partial int eltwise_backward_desc_init(OpDesc* desc, int alg, MemoryDesc* diffData, MemoryDesc* data, float alpha, float beta);

    [LibraryImport(Lib, EntryPoint = "dnnl_binary_desc_init")]
    public static partial int binary_desc_init(OpDesc* desc, int alg, MemoryDesc* src0, MemoryDesc* src1, MemoryDesc* dst);

    [LibraryImport(Lib, EntryPoint = "dnnl_reduction_desc_init")]
    public static partial int reduction_desc_init(OpDesc* desc, int alg, MemoryDesc* src, MemoryDesc* dst, float p, float eps);

    [LibraryImport(Lib, EntryPoint = "dnnl_matmul_desc_init")]
    public static partial int matmul_desc_init(OpDesc* desc, MemoryDesc* src, MemoryDesc* weights, MemoryDesc* bias, MemoryDesc* dst);
}
