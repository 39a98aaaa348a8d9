using Reid.Data;
using Reid.Engine.Autograd;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.Evaluation;
using Reid.Imaging;
using Tensor = Reid.Engine.Tensors.Tensor;

namespace Reid.Training.Trainer;

/// <summary>
/// A model held by the engine, used the way an exported one is (no ONNX round trip): evaluation mode,
/// un-augmented ImageNet preprocessing. Scoring a run's validation fold and clustering crops for adaptation
/// go through <see cref="DatasetEmbedding"/> like every other embedding of a data set; BatchNorm calibration
/// reads the same preprocessing as plain batches.
/// </summary>
public static class EngineEmbedding
{
    /// <summary>The model as <see cref="DatasetEmbedding"/>'s function from decoded images to embeddings.</summary>
    public static Func<IReadOnlyList<RgbImage>, float[][]> Of(Module model, int height, int width)
    {
        var pre = Imaging.Preprocessing.ImageNet(height, width);
        return images =>
        {
            var n = images.Count;
            var buffer = new float[n * pre.TensorLength];
            ImageBatch.Preprocess(images, pre, buffer);
            var wasTraining = model.IsTraining;
            model.Eval();
            try
            {
                using var scope = new TensorScope();
                using var noGrad = Tape.NoGrad();
                var emb = model.Forward(Tensor.FromArray(buffer, n, 3, pre.Height, pre.Width));
                var d = emb.Dim(1);
                var values = emb.Data;
                var result = new float[n][];
                for (var i = 0; i < n; i++) result[i] = values.Slice(i * d, d).ToArray();
                return result;
            }
            finally { model.Train(wasTraining); }
        };
    }

    /// <summary>Embeddings of image records in order (<paramref name="skipBad"/>: unreadable files left out and listed).</summary>
    public static EmbeddedImages Embed(Module model, IReadOnlyList<ImageRecord> records, int height, int width, int batchSize, bool skipBad = false) =>
        DatasetEmbedding.Run(records, Of(model, height, width), batchSize, skipBad);

    /// <summary>Image files as un-augmented input batches (BatchNorm calibration and refresh).</summary>
    public static IEnumerable<Tensor> Batches(IReadOnlyList<string> paths, int height, int width, int batchSize)
    {
        var pre = Imaging.Preprocessing.ImageNet(height, width);
        for (var start = 0; start < paths.Count; start += batchSize)
        {
            var n = Math.Min(batchSize, paths.Count - start);
            var buffer = ImageBatch.DecodeAndPreprocess(paths.Skip(start).Take(n).ToList(), pre);
            yield return Tensor.FromArray(buffer, n, 3, pre.Height, pre.Width);
        }
    }
}
