using System.Collections.Concurrent;
using Reid.Core;

namespace Reid.Engine.Native;

/// <summary>One argument of a primitive: the layout the caller holds and the layout the primitive wants.</summary>
internal readonly struct SlotSpec
{
    public readonly int Arg;
    public readonly Dnnl.MemoryDesc UserMd;
    public readonly int Query;
    public readonly int QueryIndex;
    public readonly bool Output;
    public readonly bool Native;

    private SlotSpec(int arg, Dnnl.MemoryDesc userMd, int query, int queryIndex, bool output, bool native)
    {
        Arg = arg; UserMd = userMd; Query = query; QueryIndex = queryIndex; Output = output; Native = native;
    }

    public static SlotSpec In(int arg, Dnnl.MemoryDesc userMd, int query, int index = 0) => new(arg, userMd, query, index, false, false);
    public static SlotSpec Out(int arg, Dnnl.MemoryDesc userMd, int query, int index = 0) => new(arg, userMd, query, index, true, false);

    /// <summary>An argument whose layout is fully defined by the caller (1-D statistics, plain-only ops).</summary>
    public static SlotSpec Fixed(int arg, Dnnl.MemoryDesc md, bool output) => new(arg, md, 0, 0, output, false);

    /// <summary>An argument held in the primitive's own layout (workspaces), never reordered.</summary>
    public static SlotSpec Raw(int arg, int query, bool output, int index = 0) => new(arg, default, query, index, output, true);
}

/// <summary>
/// A created primitive plus, for each argument whose caller layout differs from the layout the primitive
/// picked (blocked formats, bf16), a reorder in and/or out through a pooled scratch buffer. Plans are cached
/// by a key describing shapes and settings because creating primitive descriptors and JIT kernels is slow.
/// </summary>
internal sealed unsafe class DnnlPlan
{
    private static readonly ConcurrentDictionary<string, DnnlPlan> Cache = new();

    private sealed class Slot
    {
        public int Arg;
        public bool Output;
        public bool NeedsReorder;
        public long PrimBytes;
        public IntPtr UserMem;
        public IntPtr PrimMem;
        public IntPtr Reorder;
        public Dnnl.MemoryDesc PrimMd;
    }

    private readonly Slot[] _slots;
    private readonly Lock _gate = new();
    public readonly IntPtr Pd;
    public readonly IntPtr Primitive;
    public readonly string Name;
    public readonly string Implementation;

    public static int CachedCount => Cache.Count;

    /// <summary>Every cached plan (names say op and shapes, Implementation which oneDNN kernel runs it).</summary>
    public static IEnumerable<DnnlPlan> Cached => Cache.Values;

    private DnnlPlan(string name, IntPtr pd, IntPtr primitive, Slot[] slots)
    {
        Name = name; Pd = pd; Primitive = primitive; _slots = slots;
        Implementation = DnnlRuntime.ImplInfo(pd);
    }

    public static DnnlPlan GetOrCreate(string key, Func<DnnlPlan> create) => Cache.GetOrAdd(key, _ => create());

    /// <summary>Creates the primitive descriptor from an initialised operation descriptor.</summary>
    public static DnnlPlan Create(string name, Dnnl.OpDesc* desc, IntPtr hint, ReadOnlySpan<SlotSpec> specs)
    {
        var engine = DnnlRuntime.Engine;
        var status = Dnnl.primitive_desc_create(out var pd, desc, IntPtr.Zero, engine, hint);
        if (status != Dnnl.Success)
            throw new ReidException($"oneDNN has no implementation for {name} on this CPU (ISA {DnnlRuntime.EffectiveIsa()}; status {DnnlRuntime.StatusName(status)})");
        DnnlRuntime.Check(Dnnl.primitive_create(out var prim, pd), $"dnnl_primitive_create({name})");
        var slots = new Slot[specs.Length];
        for (var i = 0; i < specs.Length; i++)
        {
            var spec = specs[i];
            Dnnl.MemoryDesc primMd;
            if (spec.Query == 0) primMd = spec.UserMd;
            else
            {
                var primMdPtr = Dnnl.primitive_desc_query_md(pd, spec.Query, spec.QueryIndex);
                if (primMdPtr == null) throw new ReidException($"oneDNN {name}: argument {spec.Arg} has no memory descriptor");
                primMd = *primMdPtr;
            }
            var slot = new Slot { Arg = spec.Arg, Output = spec.Output, PrimBytes = (long)Dnnl.memory_desc_get_size(&primMd), PrimMd = primMd };
            DnnlRuntime.Check(Dnnl.memory_create(out slot.PrimMem, &primMd, engine, IntPtr.Zero), "dnnl_memory_create");
            if (!spec.Native)
            {
                var userMd = spec.UserMd;
                slot.NeedsReorder = Dnnl.memory_desc_equal(&userMd, &primMd) == 0;
                if (slot.NeedsReorder)
                {
                    DnnlRuntime.Check(Dnnl.memory_create(out slot.UserMem, &userMd, engine, IntPtr.Zero), "dnnl_memory_create");
                    IntPtr rpd;
                    var rs = spec.Output
                        ? Dnnl.reorder_primitive_desc_create(out rpd, &primMd, engine, &userMd, engine, IntPtr.Zero)
                        : Dnnl.reorder_primitive_desc_create(out rpd, &userMd, engine, &primMd, engine, IntPtr.Zero);
                    DnnlRuntime.Check(rs, $"dnnl_reorder_primitive_desc_create({name})");
                    DnnlRuntime.Check(Dnnl.primitive_create(out slot.Reorder, rpd), "dnnl_primitive_create(reorder)");
                    Dnnl.primitive_desc_destroy(rpd);
                }
            }
            slots[i] = slot;
        }
        return new DnnlPlan(name, pd, prim, slots);
    }

    /// <summary>Runs a cached reorder between two layouts of the same data.</summary>
    public static void Reorder(Dnnl.MemoryDesc from, Dnnl.MemoryDesc to, string key, NativeBuffer src, NativeBuffer dst)
    {
        var plan = GetOrCreate("reorder." + key, () => CreateReorder(from, to, key));
        plan.Execute([src, dst]);
    }

    private static DnnlPlan CreateReorder(Dnnl.MemoryDesc from, Dnnl.MemoryDesc to, string key)
    {
        var engine = DnnlRuntime.Engine;
        DnnlRuntime.Check(Dnnl.reorder_primitive_desc_create(out var pd, &from, engine, &to, engine, IntPtr.Zero), $"reorder {key}");
        DnnlRuntime.Check(Dnnl.primitive_create(out var prim, pd), "dnnl_primitive_create(reorder)");
        var slots = new Slot[2];
        for (var i = 0; i < 2; i++)
        {
            var md = i == 0 ? from : to;
            slots[i] = new Slot { Arg = i == 0 ? Dnnl.ArgSrc : Dnnl.ArgDst, Output = i == 1, PrimBytes = (long)Dnnl.memory_desc_get_size(&md) };
            DnnlRuntime.Check(Dnnl.memory_create(out slots[i].PrimMem, &md, engine, IntPtr.Zero), "dnnl_memory_create");
        }
        return new DnnlPlan($"reorder {key}", pd, prim, slots) { _isReorder = true };
    }

    private bool _isReorder;

    /// <summary>dst = a + b, all three in layout <paramref name="md"/> (any element type, e.g. bf16; dst may be a).</summary>
    public static void Add(Dnnl.MemoryDesc md, string key, NativeBuffer a, NativeBuffer b, NativeBuffer dst) =>
        Binary(Dnnl.BinaryAdd, md, md, md, key, a, b, dst);

    /// <summary>
    /// dst = a (op) b elementwise; <paramref name="bMd"/> may have size-1 axes that broadcast (a [N,C,1,1]
    /// gate onto [N,C,H,W]); dst has a's descriptor.
    /// </summary>
    public static void Binary(int alg, Dnnl.MemoryDesc aMd, Dnnl.MemoryDesc bMd, Dnnl.MemoryDesc dstMd, string key, NativeBuffer a, NativeBuffer b, NativeBuffer dst)
    {
        var plan = GetOrCreate($"binary.{alg}.{key}", () =>
        {
            var desc = new Dnnl.OpDesc();
            var (m0, m1, md) = (aMd, bMd, dstMd);
            DnnlRuntime.Check(Dnnl.binary_desc_init(&desc, alg, &m0, &m1, &md), "binary_desc_init");
            return Create($"Binary {alg} {key}", &desc, IntPtr.Zero,
                [SlotSpec.Fixed(Dnnl.ArgSrc, m0, false), SlotSpec.Fixed(Dnnl.ArgSrc1, m1, false), SlotSpec.Fixed(Dnnl.ArgDst, md, true)]);
        });
        plan.Execute([a, b, dst]);
    }

    /// <summary>Sum or mean over the axes where <paramref name="dstMd"/> has size 1 (dst may be plain f32 for a bf16 source).</summary>
    public static void Reduce(int alg, Dnnl.MemoryDesc srcMd, Dnnl.MemoryDesc dstMd, string key, NativeBuffer src, NativeBuffer dst)
    {
        var plan = GetOrCreate($"reduction.{alg}.{key}", () =>
        {
            var desc = new Dnnl.OpDesc();
            var (s, d) = (srcMd, dstMd);
            DnnlRuntime.Check(Dnnl.reduction_desc_init(&desc, alg, &s, &d, 0f, 0f), "reduction_desc_init");
            return Create($"Reduction {alg} {key}", &desc, IntPtr.Zero,
                [SlotSpec.Fixed(Dnnl.ArgSrc, s, false), SlotSpec.Fixed(Dnnl.ArgDst, d, true)]);
        });
        plan.Execute([src, dst]);
    }

    /// <summary>dst = src × weights (batched, src's batch may broadcast), all in caller-given layouts.</summary>
    public static void MatMul(Dnnl.MemoryDesc srcMd, Dnnl.MemoryDesc weightsMd, Dnnl.MemoryDesc dstMd, string key, NativeBuffer src, NativeBuffer weights, NativeBuffer dst)
    {
        var plan = GetOrCreate($"matmul.{key}", () =>
        {
            var desc = new Dnnl.OpDesc();
            var (s, w, d) = (srcMd, weightsMd, dstMd);
            DnnlRuntime.Check(Dnnl.matmul_desc_init(&desc, &s, &w, null, &d), "matmul_desc_init");
            return Create($"MatMul {key}", &desc, IntPtr.Zero,
                [SlotSpec.Fixed(Dnnl.ArgSrc, s, false), SlotSpec.Fixed(Dnnl.ArgWeights, w, false), SlotSpec.Fixed(Dnnl.ArgDst, d, true)]);
        });
        plan.Execute([src, weights, dst]);
    }

    /// <summary>The primitive-side memory descriptor of a slot (the layout of a Raw output).</summary>
    public Dnnl.MemoryDesc SlotMd(int index) => _slots[index].PrimMd;

    /// <summary>Bytes of the primitive-side buffer of a slot (workspace size).</summary>
    public long SlotBytes(int index) => _slots[index].PrimBytes;

    /// <summary>
    /// Runs the primitive on caller buffers given in slot order. Inputs in another layout are reordered into
    /// scratch first, outputs are reordered back after; every reorder and the primitive itself count as
    /// time inside oneDNN.
    /// </summary>
    public void Execute(ReadOnlySpan<NativeBuffer> handles)
    {
        if (handles.Length != _slots.Length) throw new InvalidOperationException($"{Name}: {handles.Length} buffers for {_slots.Length} arguments");
        lock (_gate)
        {
            Span<Dnnl.ExecArg> args = stackalloc Dnnl.ExecArg[_slots.Length];
            Span<Dnnl.ExecArg> pair = stackalloc Dnnl.ExecArg[2];
            var scratch = new PooledBuffer[_slots.Length];
            try
            {
                for (var i = 0; i < _slots.Length; i++)
                {
                    var s = _slots[i];
                    if (s.NeedsReorder)
                    {
                        scratch[i] = new PooledBuffer(s.PrimBytes);
                        Dnnl.memory_set_data_handle(s.PrimMem, scratch[i].Buffer.Address);
                        Dnnl.memory_set_data_handle(s.UserMem, handles[i].Address);
                        if (!s.Output)
                        {
                            pair[0] = new Dnnl.ExecArg { Arg = Dnnl.ArgSrc, Memory = s.UserMem };
                            pair[1] = new Dnnl.ExecArg { Arg = Dnnl.ArgDst, Memory = s.PrimMem };
                            DnnlRuntime.Execute(s.Reorder, pair, $"reorder for {Name}", reorder: true);
                        }
                    }
                    else
                    {
                        Dnnl.memory_set_data_handle(s.PrimMem, handles[i].Address);
                    }
                    args[i] = new Dnnl.ExecArg { Arg = s.Arg, Memory = s.PrimMem };
                }
                DnnlRuntime.Execute(Primitive, args, Name, _isReorder);
                for (var i = 0; i < _slots.Length; i++)
                {
                    var s = _slots[i];
                    if (!s.NeedsReorder || !s.Output) continue;
                    pair[0] = new Dnnl.ExecArg { Arg = Dnnl.ArgSrc, Memory = s.PrimMem };
                    pair[1] = new Dnnl.ExecArg { Arg = Dnnl.ArgDst, Memory = s.UserMem };
                    DnnlRuntime.Execute(s.Reorder, pair, $"reorder after {Name}", reorder: true);
                }
            }
            finally
            {
                foreach (var b in scratch) b.Dispose();
            }
        }
    }
}
