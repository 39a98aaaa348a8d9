using Reid.Imaging;
using Reid.Training.Autograd;
using Reid.Training.Layers;
using Reid.Training.Tensors;
using Tensor = Reid.Training.Tensors.Tensor;

namespace Reid.Training.Trainer;

/// <summary>
/// Embeds image files with a model held by the engine (no ONNX round trip), in evaluation mode, un-augmented:
/// what a run scores its validation fold with and what adaptation clusters. Decoding runs in parallel per batch.
/// </summary>
public static class EngineEmbedding
{
    public static float[][] Embed(Module model, IReadOnlyList<string> paths, int height, int width, int batchSize) =>
        Run(model, paths, height, width, batchSize, skipUnreadable: false)!;

    /// <summary>As <see cref="Embed"/>, with null for each file that cannot be decoded instead of failing.</summary>
    public static float[]?[] EmbedReadable(Module model, IReadOnlyList<string> paths, int height, int width, int batchSize) =>
        Run(model, paths, height, width, batchSize, skipUnreadable: true);

    private static float[]?[] Run(Module model, IReadOnlyList<string> paths, int height, int width, int batchSize, bool skipUnreadable)
    {
        var pre = Imaging.Preprocessing.ImageNet(height, width);
        var result = new float[]?[paths.Count];
        var buffer = new float[batchSize * pre.TensorLength];
        var wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            for (var start = 0; start < paths.Count; start += batchSize)
            {
                var n = Math.Min(batchSize, paths.Count - start);
                var readable = new bool[n];
                Parallel.For(0, n, i =>
                {
                    try
                    {
                        pre.Apply(ImageCodec.Decode(paths[start + i]), buffer.AsSpan(i * pre.TensorLength, pre.TensorLength));
                        readable[i] = true;
                    }
                    catch (ImageDecodeException) when (skipUnreadable) { buffer.AsSpan(i * pre.TensorLength, pre.TensorLength).Clear(); }
                });
                using var scope = new TensorScope();
                using var noGrad = Tape.NoGrad();
                var emb = model.Forward(Tensor.FromArray(buffer.AsSpan(0, n * pre.TensorLength), n, 3, pre.Height, pre.Width));
                var d = emb.Dim(1);
                var values = emb.Data;
                for (var i = 0; i < n; i++) if (readable[i]) result[start + i] = values.Slice(i * d, d).ToArray();
            }
        }
        finally { model.Train(wasTraining); }
        return result;
    }
}
