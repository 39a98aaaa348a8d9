using Reid.Core;

namespace Reid.Inference;

/// <summary>Where the default ReID model is.</summary>
public static class ProjectModels
{
    /// <summary>The project's own trained model, committed in the repository (once it exists).</summary>
    public static string? ShippedModelPath => ProjectPaths.ModelsDir is { } d ? Path.Combine(d, "default", "reid-default.onnx") : null;

    /// <summary>
    /// models/default/reid-default.onnx in the repository when it exists; otherwise the shared OSNet x0.25
    /// (MSMT17) baseline in ../shared/models; otherwise a <see cref="ReidException"/> saying what to do.
    /// </summary>
    public static string DefaultReidModel
    {
        get
        {
            if (ShippedModelPath is { } shipped && File.Exists(shipped)) return shipped;
            if (ProjectPaths.SharedDir is { } shared)
            {
                var osnet = Path.Combine(shared, "models", "osnet_x0_25_msmt17.onnx");
                if (File.Exists(osnet)) return osnet;
            }
            throw new ReidException(
                $"no default ReID model: {ShippedModelPath ?? "models/default/reid-default.onnx"} does not exist and no ../shared/models/osnet_x0_25_msmt17.onnx was found; " +
                "pass --model PATH.onnx, or train one with `reid train`");
        }
    }
}
