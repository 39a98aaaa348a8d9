using System.Diagnostics;
using Reid.Engine.Native;

namespace Reid.Engine.Tensors;

/// <summary>Start-up check and counters of the native engine (oneDNN).</summary>
public static class EngineInfo
{
    /// <summary>Loads oneDNN and checks its version; throws ReidException saying how to install libdnnl2.</summary>
    public static string OneDnnVersion => DnnlRuntime.Version;

    /// <summary>Time spent inside dnnl_primitive_execute (primitives and reorders) since the last reset.</summary>
    public static TimeSpan OneDnnTime => Stopwatch.GetElapsedTime(0, DnnlRuntime.ExecuteTicks);

    /// <summary>Part of <see cref="OneDnnTime"/> spent in layout/precision reorders (plain f32 ↔ blocked/bf16).</summary>
    public static TimeSpan OneDnnReorderTime => Stopwatch.GetElapsedTime(0, DnnlRuntime.ReorderTicks);

    /// <summary>Stopwatch ticks spent inside dnnl_primitive_execute since the last reset.</summary>
    public static long OneDnnTicks => DnnlRuntime.ExecuteTicks;

    /// <summary>Number of dnnl_primitive_execute calls since the last reset.</summary>
    public static long OneDnnCalls => DnnlRuntime.ExecuteCount;

    /// <summary>Distinct cached primitives (one per op, shape and precision).</summary>
    public static int CachedPrimitives => DnnlPlan.CachedCount;

    public static void ResetCounters() => DnnlRuntime.ResetCounters();
}
