using Reid.Core;
using Reid.Engine.Tensors;

namespace Reid.Engine.Tests.Tensors;

public class CpuCapabilitiesTests
{
    private static readonly CpuCapabilities Avx2 = new("AMD EPYC 7B13", 2, "2.6.3", "avx2", null);
    private static readonly CpuCapabilities Avx512Bf16 = new("AMD EPYC 9R14", 2, "2.6.3", "avx512_core_bf16", "jit:avx512_core_bf16");
    private static readonly CpuCapabilities Avx512 = new("Intel Xeon", 2, "2.6.3", "avx512_core", "jit:avx512_core");

    [Fact]
    public void Auto_is_f32_on_an_avx2_cpu_and_says_why()
    {
        var (precision, reason) = Avx2.Resolve(PrecisionSetting.Auto);
        Assert.Equal(ComputePrecision.F32, precision);
        Assert.Contains("auto -> f32", reason);
        Assert.Contains("avx2", reason);
    }

    [Fact]
    public void Auto_is_bf16_where_the_cpu_has_bf16_instructions()
    {
        var (precision, reason) = Avx512Bf16.Resolve(PrecisionSetting.Auto);
        Assert.Equal(ComputePrecision.BF16, precision);
        Assert.Contains("auto -> bf16", reason);
    }

    [Fact]
    public void Auto_stays_f32_where_oneDNN_only_emulates_bf16_but_an_explicit_bf16_runs()
    {
        Assert.Equal(ComputePrecision.F32, Avx512.Resolve(PrecisionSetting.Auto).Precision);
        Assert.Equal(ComputePrecision.BF16, Avx512.Resolve(PrecisionSetting.Bf16).Precision);
    }

    [Fact]
    public void Explicit_bf16_on_an_avx2_cpu_is_an_error_naming_the_isa_and_the_way_out()
    {
        var e = Assert.Throws<ReidException>(() => Avx2.Resolve(PrecisionSetting.Bf16));
        Assert.Contains("avx2", e.Message);
        Assert.Contains("AMD EPYC 7B13", e.Message);
        Assert.Contains("use precision auto or f32", e.Message);
        Assert.DoesNotContain("unimplemented", e.Message);
    }

    [Fact]
    public void A_reference_bf16_kernel_does_not_count()
    {
        var slow = Avx2 with { Bf16Kernel = "ref:any" };
        Assert.False(slow.Bf16Available);
        Assert.Throws<ReidException>(() => slow.Resolve(PrecisionSetting.Bf16));
    }

    [Fact]
    public void F32_is_f32_everywhere() =>
        Assert.All(new[] { Avx2, Avx512, Avx512Bf16 }, c => Assert.Equal(ComputePrecision.F32, c.Resolve(PrecisionSetting.F32).Precision));

    /// <summary>The detection agrees with itself on whichever machine runs the tests (AVX2 or AVX-512 BF16).</summary>
    [Fact]
    public void This_machine_is_detected_consistently()
    {
        var c = CpuCapabilities.Current;
        Assert.False(string.IsNullOrWhiteSpace(c.CpuModel));
        Assert.StartsWith("2.", c.OneDnnVersion);
        Assert.Contains(c.Isa, c.Summary);
        if (c.Isa is "avx2" or "avx" or "sse41" or "avx2_vnni") Assert.False(c.Bf16Available, $"{c.Isa} reported bf16 kernel {c.Bf16Kernel}");
        if (c.Isa == "avx512_core_bf16") Assert.True(c.Bf16, $"avx512_core_bf16 but kernel {c.Bf16Kernel ?? "none"}");
        if (c.Bf16) Assert.True(c.Bf16Available);
    }

    /// <summary>bf16 asked of the engine directly (not through a recipe) fails the same clear way, before any op runs.</summary>
    [Fact]
    public void Bf16_compute_on_a_cpu_without_kernels_fails_with_the_isa_not_oneDNNs_status()
    {
        var c = CpuCapabilities.Current;
        if (c.Bf16Available)
        {
            using (Precision.Use(ComputePrecision.BF16)) Assert.Equal(ComputePrecision.BF16, Precision.Current);
            return;
        }
        var e = Assert.Throws<ReidException>(() => Precision.Use(ComputePrecision.BF16));
        Assert.Contains(c.Isa, e.Message);
        Assert.Equal(ComputePrecision.F32, Precision.Current);
    }
}
