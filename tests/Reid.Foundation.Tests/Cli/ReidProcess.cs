using Reid.Onnx;

namespace Reid.Foundation.Tests.Cli;

/// <summary>Fixtures for the CLI tests (which run `reid` through Reid.TestSupport.ReidCli).</summary>
internal static class ReidProcess
{
    /// <summary>
    /// A tiny real ONNX ReID "model": global average pooling of the normalised 256x128 input, so an image's
    /// embedding is its mean colour. Dynamic batch, like exported ReID models.
    /// </summary>
    public static string WriteMeanColourModel(string path)
    {
        var b = new OnnxGraphBuilder("mean_colour");
        b.Input("input", TensorElementType.Float, "batch", 3, 256, 128);
        b.Node("GlobalAveragePool", ["input"], ["pooled"]);
        b.Node("Flatten", ["pooled"], ["embedding"]).Attr("axis", 1L);
        b.Output("embedding", TensorElementType.Float, "batch", 3);
        b.Save(path);
        return path;
    }
}
