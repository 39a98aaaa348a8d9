using Reid.Core;

namespace Reid.Foundation.Tests.Cli;

public class MachineInfoTests
{
    [Fact]
    public void The_cpu_model_is_read_from_cpuinfos_model_name_line()
    {
        const string cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13 64-Core Processor\nflags\t\t: fpu avx2\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13 64-Core Processor\n";
        Assert.Equal("AMD EPYC 7B13 64-Core Processor", MachineInfo.CpuModelFromCpuInfo(cpuinfo));
        Assert.Null(MachineInfo.CpuModelFromCpuInfo("processor : 0\nflags : avx2\n"));
        Assert.False(string.IsNullOrWhiteSpace(MachineInfo.CpuModel));
    }

    [Fact]
    public void Reid_info_names_the_cpu_its_isa_and_what_auto_precision_becomes()
    {
        using var dir = new Reid.TestSupport.TempDir();
        var r = Reid.TestSupport.ReidCli.Run("info", "--json", dir.File("info.json"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains(MachineInfo.CpuModel, r.Stdout);
        Assert.Matches(@"oneDNN\s+: 2\.\d+\.\d+, ISA \w+", r.Stdout);
        Assert.Matches(@"bf16\s+: (yes|no)", r.Stdout);
        Assert.Contains("precision auto -> ", r.Stdout);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("info.json")));
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("onednn_isa").GetString()));
        Assert.Contains(json.RootElement.GetProperty("bf16").ValueKind, new[] { System.Text.Json.JsonValueKind.True, System.Text.Json.JsonValueKind.False });
    }
}
