using Reid.Engine.Tensors;
using Xunit;

namespace Reid.TestSupport;

/// <summary>
/// Tests of the bf16 kernels need a CPU where oneDNN has them (AVX-512; AVX512_BF16 for native speed). On an
/// AVX2-only machine they are skipped with this reason; the f32 half of the same test still runs.
/// </summary>
public static class Bf16Kernels
{
    public static bool Available => CpuCapabilities.Current.Bf16Available;

    public static string SkipReason =>
        $"needs oneDNN bf16 kernels, which this CPU lacks ({CpuCapabilities.Current.CpuModel}, oneDNN ISA {CpuCapabilities.Current.Isa})";
}

/// <summary>A fact about bf16 kernels: skipped where oneDNN has none (see <see cref="Bf16Kernels"/>).</summary>
public sealed class Bf16FactAttribute : FactAttribute
{
    public Bf16FactAttribute() { if (!Bf16Kernels.Available) Skip = Bf16Kernels.SkipReason; }
}

/// <summary>A theory row that runs in bf16: skipped where oneDNN has no bf16 kernels; the theory's other rows run.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class Bf16InlineDataAttribute : Xunit.Sdk.DataAttribute
{
    private readonly object[] _data;

    public Bf16InlineDataAttribute(params object[] data)
    {
        _data = data;
        if (!Bf16Kernels.Available) Skip = Bf16Kernels.SkipReason;
    }

    public override IEnumerable<object[]> GetData(System.Reflection.MethodInfo testMethod) => [_data];
}
