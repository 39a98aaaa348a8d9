using Reid.Inference;

namespace Reid.Training.Export;

/// <summary>
/// The preprocessing an exported model expects, written into its ONNX metadata_props with the Embedder's
/// own key names (<see cref="ModelPreprocessing"/>), so a served export preprocesses exactly as it was trained.
/// </summary>
public static class ExportPreprocessing
{
    public static IEnumerable<(string Key, string Value)> Metadata(ExportOptions o) =>
        ModelPreprocessing.ToMetadata((o.Preprocessing ?? Reid.Imaging.Preprocessing.ImageNet()) with { Height = o.Height, Width = o.Width })
            .Select(kv => (kv.Key, kv.Value));
}
