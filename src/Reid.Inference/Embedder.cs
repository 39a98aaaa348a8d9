using System.Buffers;
using System.Numerics.Tensors;
using System.Security.Cryptography;
using Reid.Core;
using Reid.Imaging;
using Reid.Onnx;

namespace Reid.Inference;

/// <param name="BatchSize">Images per ORT run (a fixed-batch model's own batch size wins).</param>
/// <param name="FlipTta">Also embed the mirrored crop and average the two before normalising (test-time augmentation).</param>
/// <param name="Preprocessing">Overrides what the model declares (metadata, sidecar JSON or defaults).</param>
/// <param name="MaxParallelism">Threads for preprocessing (-1: all cores).</param>
public sealed record EmbedderOptions(
    int BatchSize = 32,
    bool FlipTta = false,
    int IntraOpThreads = 0,
    GraphOptimization Optimization = GraphOptimization.All,
    Preprocessing? Preprocessing = null,
    int MaxParallelism = -1)
{
    public static EmbedderOptions Default { get; } = new();
}

/// <summary>
/// A ReID model that turns person crops into L2-normalised embeddings. Input must be float NCHW with 3 channels
/// (batch dynamic or fixed); output [N, D] (or [N, D, 1, 1]). Thread-safe.
/// </summary>
public sealed class Embedder : IDisposable
{
    /// <summary>Input size used when the model leaves height and width dynamic: the common ReID 256x128.</summary>
    public const int DynamicHeight = 256, DynamicWidth = 128;

    private readonly InferenceSession _session;
    private readonly EmbedderOptions _options;
    private readonly int _runBatch;   // images per run
    private readonly bool _fixedBatch;

    public string ModelPath { get; }
    /// <summary>Hex SHA-256 of the model file.</summary>
    public string Sha256 { get; }
    /// <summary>A stable id of the model's content (the first 16 hex digits of its SHA-256): stored embeddings carry it.</summary>
    public string ModelId => Sha256[..16];
    public int Dimension { get; }
    public Preprocessing Preprocessing { get; }
    /// <summary>Where <see cref="Preprocessing"/> came from: "options", "metadata", a sidecar path, or "defaults".</summary>
    public string PreprocessingSource { get; }
    public TensorInfo Input => _session.Inputs[0];
    public TensorInfo Output => _session.Outputs[0];
    public bool FlipTta => _options.FlipTta;
    /// <summary>The model's fixed batch size, or null when the batch dimension is dynamic.</summary>
    public int? FixedBatch => _fixedBatch ? _runBatch : null;
    public IReadOnlyDictionary<string, string> Metadata => _session.Metadata;
    /// <summary>The decision threshold the model declares (metadata, else sidecar JSON), if any.</summary>
    public ModelThreshold? DeclaredThreshold { get; }

    public static Embedder Open(string modelPath, EmbedderOptions? options = null)
    {
        options ??= EmbedderOptions.Default;
        if (options.BatchSize <= 0) throw new ReidException($"batch size must be positive, not {options.BatchSize}");
        var session = InferenceSession.Open(modelPath, new SessionOptions(options.IntraOpThreads, options.Optimization));
        try { return new Embedder(modelPath, session, options); }
        catch { session.Dispose(); throw; }
    }

    private Embedder(string path, InferenceSession session, EmbedderOptions options)
    {
        (ModelPath, _session, _options) = (path, session, options);
        using (var stream = File.OpenRead(path)) Sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));

        var input = session.Inputs.Count == 1 ? session.Inputs[0]
            : throw new OnnxModelException($"{path}: a ReID model takes one image tensor; {session.ExpectedInputs}");
        if (input.ElementType != TensorElementType.Float || input.Rank != 4 || (input.Shape[1] >= 0 && input.Shape[1] != 3))
            throw new OnnxModelException($"{path}: a ReID model takes float [N,3,H,W] images; {session.ExpectedInputs}");
        var output = session.Outputs[0];
        if (output.ElementType != TensorElementType.Float || output.Rank < 2)
            throw new OnnxModelException($"{path}: a ReID model outputs float [N,D] embeddings, but its output is {output}");

        (Preprocessing, PreprocessingSource) = ResolvePreprocessing(path, session, options);
        DeclaredThreshold = ModelThreshold.From(session.Metadata, "model metadata")
            ?? SidecarPaths(path).Where(File.Exists).Select(f => ModelThreshold.From(ModelPreprocessing.ReadSidecar(f), Path.GetFileName(f))).FirstOrDefault(t => t is not null);
        if (input.Shape[2] >= 0 && input.Shape[2] != Preprocessing.Height || input.Shape[3] >= 0 && input.Shape[3] != Preprocessing.Width)
            throw new OnnxModelException($"{path}: preprocessing from {PreprocessingSource} says {Preprocessing.Height}x{Preprocessing.Width}, but {session.ExpectedInputs}");

        _fixedBatch = input.Shape[0] > 0;
        _runBatch = _fixedBatch ? (int)input.Shape[0] : options.BatchSize;
        var dims = output.Shape.Skip(1).ToArray();
        Dimension = dims.All(d => d > 0) ? (int)dims.Aggregate(1L, (a, d) => a * d) : ProbeDimension();
        if (Dimension <= 0) throw new OnnxModelException($"{path}: output {output} has no embedding dimension");
    }

    private static (Preprocessing, string) ResolvePreprocessing(string path, InferenceSession session, EmbedderOptions options)
    {
        if (options.Preprocessing is { } given) { given.Validate(); return (given, "options"); }
        var shape = session.Inputs[0].Shape;
        var defaults = Preprocessing.ImageNet(shape[2] > 0 ? (int)shape[2] : DynamicHeight, shape[3] > 0 ? (int)shape[3] : DynamicWidth);
        if (ModelPreprocessing.HasAny(session.Metadata))
            return (ModelPreprocessing.FromMetadata(session.Metadata, defaults, $"{path} metadata"), "metadata");
        foreach (var sidecar in SidecarPaths(path))
            if (File.Exists(sidecar))
                return (ModelPreprocessing.FromMetadata(ModelPreprocessing.ReadSidecar(sidecar), defaults, sidecar), sidecar);
        return (defaults, "defaults");
    }

    /// <summary>Sidecar files consulted, in order: &lt;model&gt;.model.json, then MODEL.json in the model's folder.</summary>
    public static IEnumerable<string> SidecarPaths(string modelPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        yield return Path.Combine(dir, Path.GetFileNameWithoutExtension(modelPath) + ".model.json");
        yield return Path.Combine(dir, "MODEL.json");
    }

    private int ProbeDimension()
    {
        var probe = new float[_runBatch * Preprocessing.TensorLength];
        _session.Run(probe, InputShape(_runBatch), out var shape);
        return (int)shape.Skip(1).Aggregate(1L, (a, d) => a * d);
    }

    private long[] InputShape(int n) => [n, 3, Preprocessing.Height, Preprocessing.Width];

    /// <summary>L2-normalised embeddings of <paramref name="images"/>, in order.</summary>
    public float[][] Embed(IReadOnlyList<RgbImage> images)
    {
        var result = new float[images.Count][];
        var per = Preprocessing.TensorLength;
        var buffer = ArrayPool<float>.Shared.Rent(_runBatch * per);
        try
        {
            for (var start = 0; start < images.Count; start += _runBatch)
            {
                var n = Math.Min(_runBatch, images.Count - start);
                var chunk = new ArraySegmentList<RgbImage>(images, start, n);
                var sums = EmbedChunk(chunk, buffer, flip: false);
                if (_options.FlipTta)
                {
                    var mirrored = EmbedChunk(chunk, buffer, flip: true);
                    for (var i = 0; i < n; i++) TensorPrimitives.Add(sums[i], mirrored[i], sums[i]);
                }
                for (var i = 0; i < n; i++) result[start + i] = Normalise(sums[i]);
            }
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
        return result;
    }

    public float[] Embed(RgbImage image) => Embed([image])[0];

    private float[][] EmbedChunk(IReadOnlyList<RgbImage> images, float[] buffer, bool flip)
    {
        var n = images.Count;
        var per = Preprocessing.TensorLength;
        ImageBatch.Preprocess(images, Preprocessing, buffer.AsMemory(0, n * per), flip, _options.MaxParallelism);
        if (_fixedBatch && n < _runBatch) Array.Clear(buffer, n * per, (_runBatch - n) * per);   // pad a short last chunk
        var runCount = _fixedBatch ? _runBatch : n;
        return RunRaw(buffer.AsMemory(0, runCount * per), runCount, n);
    }

    /// <summary>
    /// Runs the model on an already preprocessed NCHW batch of <paramref name="count"/> images and returns their
    /// L2-normalised embeddings (no flip). For benchmarks and callers that preprocess themselves.
    /// </summary>
    public float[][] EmbedPreprocessed(ReadOnlyMemory<float> batch, int count)
    {
        var per = Preprocessing.TensorLength;
        if (batch.Length != (long)count * per)
            throw new ArgumentException($"batch holds {batch.Length} floats; {count} images need {(long)count * per}");
        var result = new float[count][];
        for (var start = 0; start < count; start += _runBatch)
        {
            var n = Math.Min(_runBatch, count - start);
            var slice = batch.Slice(start * per, n * per);
            float[][] raw;
            if (_fixedBatch && n < _runBatch)
            {
                var padded = new float[_runBatch * per];
                slice.Span.CopyTo(padded);
                raw = RunRaw(padded, _runBatch, n);
            }
            else raw = RunRaw(slice, n, n);
            for (var i = 0; i < n; i++) result[start + i] = Normalise(raw[i]);
        }
        return result;
    }

    /// <summary>One ORT run over <paramref name="runCount"/> images; returns the raw outputs of the first <paramref name="keep"/>.</summary>
    private float[][] RunRaw(ReadOnlyMemory<float> input, int runCount, int keep)
    {
        var output = _session.Run(input, InputShape(runCount), out var shape);
        if (shape.Length < 2 || shape[0] != runCount || output.Length != (long)runCount * Dimension)
            throw new OnnxModelException($"{ModelPath}: expected output [{runCount},{Dimension}], got [{string.Join(",", shape)}]");
        var rows = new float[keep][];
        for (var i = 0; i < keep; i++) rows[i] = output.AsSpan(i * Dimension, Dimension).ToArray();
        return rows;
    }

    private static float[] Normalise(float[] v)
    {
        var norm = TensorPrimitives.Norm(v);
        if (norm > 1e-12f) TensorPrimitives.Divide(v, norm, v);
        return v;
    }

    public void Dispose() => _session.Dispose();

    /// <summary>A window onto a list without copying it.</summary>
    private sealed class ArraySegmentList<T>(IReadOnlyList<T> list, int start, int count) : IReadOnlyList<T>
    {
        public T this[int index] => (uint)index < (uint)count ? list[start + index] : throw new ArgumentOutOfRangeException(nameof(index));
        public int Count => count;
        public IEnumerator<T> GetEnumerator() { for (var i = 0; i < count; i++) yield return list[start + i]; }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
