using Reid.Engine.Tensors;

namespace Reid.Training.Benchmark;

/// <summary>What benchmark figures carry about the machine they came from, since it is shared and its load varies.</summary>
public static class BenchmarkMachine
{
    public static string Note() =>
        $"{CpuCapabilities.Current.Summary}; load average {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?")} (shared machine)";
}
