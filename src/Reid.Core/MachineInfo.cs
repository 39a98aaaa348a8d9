namespace Reid.Core;

/// <summary>
/// What every benchmark figure and model card names: the CPU it came from. Read once from /proc/cpuinfo
/// (Linux); elsewhere the processor architecture stands in.
/// </summary>
public static class MachineInfo
{
    private static readonly Lazy<string> Model = new(ReadCpuModel);

    /// <summary>E.g. "AMD EPYC 9R14 96-Core Processor" (or "AMD EPYC" on a VM that hides the rest).</summary>
    public static string CpuModel => Model.Value;

    public static int LogicalCpus => Environment.ProcessorCount;

    /// <summary>The first "model name" line of /proc/cpuinfo's text; null when there is none.</summary>
    public static string? CpuModelFromCpuInfo(string cpuinfo)
    {
        foreach (var line in cpuinfo.Split('\n'))
        {
            var colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim() == "model name") return line[(colon + 1)..].Trim() is { Length: > 0 } name ? name : null;
        }
        return null;
    }

    private static string ReadCpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo") && CpuModelFromCpuInfo(File.ReadAllText("/proc/cpuinfo")) is { } name) return name;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }
}
