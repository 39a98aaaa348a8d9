using Reid.Engine.Tensors;

namespace Reid.Training.Benchmark;

/// <summary>What benchmark figures carry about the machine they came from, since it is shared and its load varies.</summary>
public static class BenchmarkMachine
{
    public static string Note() => $"{CpuCapabilities.Current.Summary}; load average {LoadAverage()} (shared machine)";

    /// <summary>/proc/loadavg as it reads now ("?" where there is none).</summary>
    public static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Trim(); }
        catch (IOException) { return "?"; }
        catch (UnauthorizedAccessException) { return "?"; }
    }
}
