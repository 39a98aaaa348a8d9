using Reid.Core;
using Reid.Engine.Native;

namespace Reid.Engine.Tensors;

/// <summary>How a recipe asks for arithmetic: <c>auto</c> picks bf16 only where oneDNN runs it natively.</summary>
public enum PrecisionSetting { Auto, F32, Bf16 }

/// <summary>
/// What the training engine can do on this CPU, asked of oneDNN once per process: the instruction set it
/// dispatches to and whether it has bf16 convolution kernels. Shown by `reid info`, written into every
/// benchmark JSON and model card, and used to resolve <see cref="PrecisionSetting.Auto"/>.
/// </summary>
/// <param name="CpuModel">The CPU's model name (/proc/cpuinfo).</param>
/// <param name="Isa">oneDNN's effective ISA name: avx2, avx512_core, avx512_core_bf16, ...</param>
/// <param name="Bf16Kernel">The bf16 convolution kernel oneDNN picks (e.g. jit:avx512_core_bf16), or null when it has none.</param>
public sealed record CpuCapabilities(string CpuModel, int LogicalCpus, string OneDnnVersion, string Isa, string? Bf16Kernel)
{
    private static readonly Lazy<CpuCapabilities> Detected = new(Detect);

    /// <summary>This machine's capabilities (detected on first use; throws ReidException when oneDNN is missing).</summary>
    public static CpuCapabilities Current => Detected.Value;

    private static CpuCapabilities Detect()
    {
        var version = DnnlRuntime.Version;
        return new CpuCapabilities(MachineInfo.CpuModel, MachineInfo.LogicalCpus, version, DnnlRuntime.EffectiveIsa(),
            DnnlRuntime.Bf16ConvolutionKernel());
    }

    /// <summary>
    /// oneDNN has JIT bf16 kernels here, so bf16 training runs (explicit <c>precision: bf16</c> is allowed, bf16
    /// tests run). Its reference kernels would be correct but orders of magnitude slower than f32: they don't count.
    /// </summary>
    public bool Bf16Available => Bf16Kernel is { } k && !k.StartsWith("ref", StringComparison.Ordinal);

    /// <summary>
    /// The CPU has bf16 instructions (AVX512_BF16 or AMX): bf16 is faster than f32, so <c>auto</c> picks it. On
    /// plain AVX-512 oneDNN emulates bf16 with integer shifts, which is not a gain worth the precision.
    /// </summary>
    public bool Bf16 => Bf16Available && Isa is "avx512_core_bf16" or "avx512_core_amx";

    /// <summary>One line for logs and cards: "AMD EPYC (2 CPUs), oneDNN 2.6.3 ISA avx2, bf16 no".</summary>
    public string Summary => $"{CpuModel} ({LogicalCpus} CPUs), oneDNN {OneDnnVersion} ISA {Isa}, bf16 {(Bf16 ? "yes" : "no")}";

    /// <summary>
    /// The arithmetic a setting means on this CPU and one sentence saying which and why. An explicit bf16
    /// where oneDNN has no bf16 kernels is a <see cref="ReidException"/> naming the ISA.
    /// </summary>
    public (ComputePrecision Precision, string Reason) Resolve(PrecisionSetting setting) => setting switch
    {
        PrecisionSetting.F32 => (ComputePrecision.F32, "precision f32 (as the recipe asks)"),
        PrecisionSetting.Bf16 when Bf16Available => (ComputePrecision.BF16, $"precision bf16 (as the recipe asks; oneDNN kernel {Bf16Kernel})"),
        PrecisionSetting.Bf16 => throw Bf16Unavailable("precision: bf16"),
        _ when Bf16 => (ComputePrecision.BF16, $"precision auto -> bf16: oneDNN runs bf16 natively on this CPU ({Isa})"),
        _ => (ComputePrecision.F32, $"precision auto -> f32: this CPU's ISA ({Isa}) has no native bf16 kernels in oneDNN"),
    };

    /// <summary>The error for bf16 asked of a CPU without it: what the CPU has and what to use instead.</summary>
    public ReidException Bf16Unavailable(string what) =>
        new($"{what}: this CPU ({CpuModel}, oneDNN ISA {Isa}) has no native bf16 kernels " +
            "(oneDNN needs AVX-512; avx512_core_bf16 for full speed); use precision auto or f32");
}
