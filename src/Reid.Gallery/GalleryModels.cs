using Reid.Inference;

namespace Reid.Gallery;

/// <summary>Opens the ReID model a gallery embeds with: the given ONNX file, or the project's default model.</summary>
public static class GalleryModels
{
    public static EmbeddingModel Open(string? modelPath = null, EmbedderOptions? options = null)
    {
        var embedder = Embedder.Open(modelPath ?? ProjectModels.DefaultReidModel, options);
        return new EmbeddingModel(embedder.ModelId, embedder.Dimension, embedder.Embed, embedder);
    }
}
