using System.Diagnostics;
using System.Runtime.InteropServices;
using Reid.Core;

namespace Reid.Engine.Native;

/// <summary>
/// The process-wide oneDNN CPU engine and stream, the version check, error translation and the counter of
/// time spent inside dnnl_primitive_execute (the benchmark's onednn_fraction).
/// </summary>
internal static unsafe class DnnlRuntime
{
    public const int SupportedMajor = 2;
    private const string InstallHint =
        "install oneDNN 2.x: on Debian/Ubuntu `sudo apt-get install libdnnl2` (or run scripts/setup.sh)";

    private static readonly Lazy<(IntPtr Engine, IntPtr Stream, string Version)> State = new(Init);
    private static long _executeTicks;
    private static long _executeCount;
    private static long _reorderTicks;

    public static IntPtr Engine => State.Value.Engine;
    public static IntPtr Stream => State.Value.Stream;
    public static string Version => State.Value.Version;
    public static long ExecuteTicks => Interlocked.Read(ref _executeTicks);
    public static long ExecuteCount => Interlocked.Read(ref _executeCount);
    public static long ReorderTicks => Interlocked.Read(ref _reorderTicks);

    public static void ResetCounters()
    {
        Interlocked.Exchange(ref _executeTicks, 0);
        Interlocked.Exchange(ref _executeCount, 0);
        Interlocked.Exchange(ref _reorderTicks, 0);
    }

    private static (IntPtr, IntPtr, string) Init()
    {
        Dnnl.Version v;
        try
        {
            v = *Dnnl.version();
        }
        catch (DllNotFoundException e)
        {
            throw new ReidException($"oneDNN library libdnnl.so.2 not found ({e.Message.Split('\n')[0]}); {InstallHint}", e);
        }
        catch (EntryPointNotFoundException e)
        {
            throw new ReidException($"libdnnl.so.2 lacks dnnl_version; {InstallHint}", e);
        }
        var text = $"{v.Major}.{v.Minor}.{v.Patch}";
        CheckVersion(v.Major, text);
        Check(Dnnl.engine_create(out var engine, Dnnl.EngineCpu, 0), "dnnl_engine_create");
        Check(Dnnl.stream_create(out var stream, engine, Dnnl.StreamDefaultFlags), "dnnl_stream_create");
        return (engine, stream, text);
    }

    /// <summary>oneDNN 3.x removed the *_desc_init functions and changed memory descriptors; 1.x lacks pooling_v2.</summary>
    public static void CheckVersion(int major, string text)
    {
        if (major != SupportedMajor)
            throw new ReidException($"oneDNN {text} is loaded but the training engine needs oneDNN {SupportedMajor}.x " +
                                    $"(its C API changed in 3.0); {InstallHint}");
    }

    public static void Check(int status, string what)
    {
        if (status != Dnnl.Success)
            throw new ReidException($"oneDNN call {what} failed with status {StatusName(status)}");
    }

    public static string StatusName(int status) => status switch
    {
        1 => "out_of_memory",
        2 => "invalid_arguments",
        3 => "unimplemented",
        4 => "iterator_ends",
        5 => "runtime_error",
        6 => "not_required",
        _ => status.ToString(),
    };

    /// <summary>Runs a primitive synchronously and adds the time spent to the execute counter.</summary>
    public static void Execute(IntPtr primitive, ReadOnlySpan<Dnnl.ExecArg> args, string what, bool reorder = false)
    {
        var start = Stopwatch.GetTimestamp();
        int status;
        fixed (Dnnl.ExecArg* p = args)
        {
            status = Dnnl.primitive_execute(primitive, Stream, args.Length, p);
            if (status == Dnnl.Success) status = Dnnl.stream_wait(Stream);
        }
        var ticks = Stopwatch.GetTimestamp() - start;
        Interlocked.Add(ref _executeTicks, ticks);
        if (reorder) Interlocked.Add(ref _reorderTicks, ticks);
        Interlocked.Increment(ref _executeCount);
        Check(status, what);
    }

    /// <summary>Offset of <c>data_type</c> in dnnl_memory_desc_t (after int ndims and 12 x int64 dims), 2.x layout.</summary>
    public const int DataTypeOffset = 104;

    /// <summary>The element type of a memory descriptor (Dnnl.F32, Dnnl.BF16, ...).</summary>
    public static int DataType(Dnnl.MemoryDesc md)
    {
        ReadOnlySpan<byte> bytes = md;
        return System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes[DataTypeOffset..]);
    }

    public static Dnnl.MemoryDesc PlainDesc(ReadOnlySpan<int> shape, int dataType)
    {
        var dims = new Dnnl.Dims();
        for (var i = 0; i < shape.Length; i++) dims[i] = shape[i];
        var md = new Dnnl.MemoryDesc();
        Check(Dnnl.memory_desc_init_by_tag(&md, shape.Length, &dims, dataType, PlainTag(shape.Length)), "dnnl_memory_desc_init_by_tag");
        return md;
    }

    public static Dnnl.MemoryDesc AnyDesc(ReadOnlySpan<int> shape, int dataType)
    {
        var dims = new Dnnl.Dims();
        for (var i = 0; i < shape.Length; i++) dims[i] = shape[i];
        var md = new Dnnl.MemoryDesc();
        Check(Dnnl.memory_desc_init_by_tag(&md, shape.Length, &dims, dataType, Dnnl.TagAny), "dnnl_memory_desc_init_by_tag(any)");
        return md;
    }

    public static Dnnl.MemoryDesc TaggedDesc(ReadOnlySpan<int> shape, int dataType, int tag)
    {
        var dims = new Dnnl.Dims();
        for (var i = 0; i < shape.Length; i++) dims[i] = shape[i];
        var md = new Dnnl.MemoryDesc();
        Check(Dnnl.memory_desc_init_by_tag(&md, shape.Length, &dims, dataType, tag), "dnnl_memory_desc_init_by_tag");
        return md;
    }

    /// <summary>
    /// How many consecutive channels an [N,C,H,W] layout stores per spatial position: 1 for plain (nchw), C for
    /// nhwc, 16/8/4 for nChw16c/8c/4c; 0 for any other layout. With b &gt; 0 the storage is a dense batch of
    /// [H·W, b] matrices (N·⌈C/b⌉ of them; channels padded up to a multiple of b are zero).
    /// </summary>
    public static int ChannelBlock(Dnnl.MemoryDesc md, ReadOnlySpan<int> shape)
    {
        if (shape.Length != 4) return 0;
        return TagOf(md, shape) switch
        {
            Dnnl.TagABCD => 1,
            Dnnl.TagACDB => shape[1],
            Dnnl.TagABcd16b => 16,
            Dnnl.TagABcd8b => 8,
            Dnnl.TagABcd4b => 4,
            _ => 0,
        };
    }

    /// <summary>The activation format tag (plain, nhwc, channel-blocked) that gives <paramref name="md"/> for <paramref name="shape"/>; 0 = none.</summary>
    public static int TagOf(Dnnl.MemoryDesc md, ReadOnlySpan<int> shape)
    {
        if (shape.Length != 4) return 0;
        var dataType = DataType(md);
        foreach (var tag in (ReadOnlySpan<int>)[Dnnl.TagABCD, Dnnl.TagACDB, Dnnl.TagABcd16b, Dnnl.TagABcd8b, Dnnl.TagABcd4b])
        {
            var probe = TaggedDesc(shape, dataType, tag);
            if (Dnnl.memory_desc_equal(&probe, &md) != 0) return tag;
        }
        return 0;
    }

    private static int PlainTag(int rank) => rank switch
    {
        1 => Dnnl.TagA,
        2 => Dnnl.TagAB,
        3 => Dnnl.TagABC,
        4 => Dnnl.TagABCD,
        5 => Dnnl.TagABCDE,
        _ => throw new ReidException($"oneDNN plain layout for rank {rank} is not supported"),
    };

    public static Dnnl.Dims ToDims(params int[] values)
    {
        var d = new Dnnl.Dims();
        for (var i = 0; i < values.Length; i++) d[i] = values[i];
        return d;
    }

    /// <summary>
    /// The instruction set oneDNN dispatches to on this CPU (dnnl_get_effective_cpu_isa), by its oneDNN name
    /// (avx2, avx512_core, avx512_core_bf16, ...). Honours ONEDNN_MAX_CPU_ISA.
    /// </summary>
    public static string EffectiveIsa()
    {
        _ = State.Value;   // load and version-check the library first, so a missing one gives the install hint
        return Dnnl.get_effective_cpu_isa() switch
        {
            0x0 => "all",
            0x1 => "sse41",
            0x3 => "avx",
            0x7 => "avx2",
            0xf => "avx512_mic",
            0x1f => "avx512_mic_4ops",
            0x27 => "avx512_core",
            0x67 => "avx512_core_vnni",
            0xe7 => "avx512_core_bf16",
            0x3e7 => "avx512_core_amx",
            0x407 => "avx2_vnni",
            var other => $"isa_0x{other:x}",
        };
    }

    /// <summary>
    /// The kernel oneDNN picks for a small bf16 convolution (forward training), or null when it has none.
    /// oneDNN 2.6 has bf16 convolutions only from AVX-512 (avx512_core, emulated; avx512_core_bf16, native);
    /// asking is the only reliable test, since ONEDNN_MAX_CPU_ISA or a hypervisor can hide CPU flags.
    /// </summary>
    public static string? Bf16ConvolutionKernel()
    {
        var src = AnyDesc([2, 16, 8, 8], Dnnl.BF16);
        var wei = AnyDesc([16, 16, 3, 3], Dnnl.BF16);
        var dst = AnyDesc([2, 16, 8, 8], Dnnl.BF16);
        var strides = ToDims(1, 1);
        var dil = ToDims(0, 0);
        var pad = ToDims(1, 1);
        var desc = new Dnnl.OpDesc();
        if (Dnnl.dilated_convolution_forward_desc_init(&desc, Dnnl.ForwardTraining, Dnnl.ConvolutionDirect,
                &src, &wei, null, &dst, &strides, &dil, &pad, &pad) != Dnnl.Success) return null;
        if (Dnnl.primitive_desc_create(out var pd, &desc, IntPtr.Zero, Engine, IntPtr.Zero) != Dnnl.Success) return null;
        try { return ImplInfo(pd); }
        finally { Dnnl.primitive_desc_destroy(pd); }
    }

    public static string ImplInfo(IntPtr pd)
    {
        byte* s = null;
        if (Dnnl.primitive_desc_query(pd, Dnnl.QueryImplInfoStr, 0, &s) != Dnnl.Success || s == null) return "?";
        return Marshal.PtrToStringAnsi((IntPtr)s) ?? "?";
    }
}
