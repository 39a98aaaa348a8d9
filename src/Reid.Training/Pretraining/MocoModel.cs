using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.Training.Backbones;
using Tensor = Reid.Engine.Tensors.Tensor;

namespace Reid.Training.Pretraining;

/// <summary>An encoder and the MLP projection MoCo v2 trains through (the projection is discarded afterwards).</summary>
public sealed class MocoEncoder : Module
{
    public MocoEncoder(ModelConfig config, int projectionDim)
    {
        Encoder = AddModule("encoder", new ReidModel(config));
        var d = Encoder.EmbeddingDim;
        Projection = AddModule("projection", new Sequential(new Linear(d, d), new ReLU(), new Linear(d, projectionDim)));
    }

    /// <summary>The bare backbone (no neck, no classifier): what `reid pretrain` exports as an init.</summary>
    public ReidModel Encoder { get; }
    public Sequential Projection { get; }

    public override Tensor Forward(Tensor input) => Projection.Forward(Encoder.Forward(input));
}

/// <summary>
/// MoCo (He et al. 2020): the query encoder learns by gradient; the key encoder is its exponential moving average
/// (θk ← m·θk + (1 − m)·θq after every step), so keys change slowly and a queue of the last keys serves as a large,
/// consistent set of negatives. The queue lives in a buffer, so a checkpoint restores all of it.
/// </summary>
public sealed class MocoModel : Module
{
    private readonly Tensor _queue, _position;

    public MocoModel(ModelConfig config, int projectionDim, int queueSize)
    {
        Query = AddModule("query", new MocoEncoder(config, projectionDim));
        Key = AddModule("key", new MocoEncoder(config, projectionDim));
        foreach (var p in Key.Parameters()) p.RequiresGrad = false;
        CopyQueryIntoKey();
        QueueSize = queueSize;
        Dim = projectionDim;
        using (var zeros = Tensor.Zeros(queueSize, projectionDim)) _queue = AddBuffer("queue", zeros);
        // [next slot, keys held], as floats (exact far beyond any queue size)
        using (var zeros = Tensor.Zeros(2)) _position = AddBuffer("queue_position", zeros);
    }

    public MocoEncoder Query { get; }
    public MocoEncoder Key { get; }
    public int QueueSize { get; }
    public int Dim { get; }

    /// <summary>Keys held so far (the queue fills during the first steps).</summary>
    public int Queued => (int)_position.Data[1];
    public float[] QueueValues => _queue.Data.ToArray();

    public override Tensor Forward(Tensor input) => Query.Forward(input);

    /// <summary>Makes the key encoder an exact copy of the query encoder (at the start).</summary>
    public void CopyQueryIntoKey()
    {
        var q = Query.StateDict();
        foreach (var (name, t) in Key.StateDict()) q[name].Data.CopyTo(t.Data);
    }

    /// <summary>θk ← m·θk + (1 − m)·θq for every parameter; the key encoder's BatchNorm statistics stay its own.</summary>
    public void MomentumUpdate(double m)
    {
        var q = Query.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var (name, k) in Key.NamedParameters())
        {
            var kd = k.Data;
            var qd = q[name].Data;
            System.Numerics.Tensors.TensorPrimitives.Multiply(kd, (float)m, kd);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(qd, (float)(1 - m), kd, kd);
        }
    }

    /// <summary>Unit keys of a batch from the key encoder, in training mode, without gradients.</summary>
    /// <remarks>
    /// BatchNorm in training mode normalises by the batch's statistics, which can leak which key belongs to which query
    /// when both halves see the same batch composition (MoCo's "shuffling BN"): the keys are encoded in two sub-batches
    /// of a shuffled order, so their statistics come from other groupings than the queries'.
    /// </remarks>
    public float[] Keys(ReadOnlySpan<float> images, int n, int height, int width, Random shuffle)
    {
        var len = 3 * height * width;
        var order = Enumerable.Range(0, n).ToArray();
        shuffle.Shuffle(order);
        var keys = new float[n * Dim];
        var halves = n >= 4 ? 2 : 1;
        var start = 0;
        for (var h = 0; h < halves; h++)
        {
            var count = (n - start) / (halves - h);
            var buffer = new float[count * len];
            for (var i = 0; i < count; i++) images.Slice(order[start + i] * len, len).CopyTo(buffer.AsSpan(i * len, len));
            using var scope = new TensorScope();
            using var noGrad = Tape.NoGrad();
            var k = Key.Forward(Tensor.FromArray(buffer, count, 3, height, width)).Data;
            for (var i = 0; i < count; i++)
            {
                var row = k.Slice(i * Dim, Dim);
                var norm = MathF.Max(System.Numerics.Tensors.TensorPrimitives.Norm(row), 1e-12f);
                System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, keys.AsSpan(order[start + i] * Dim, Dim));
            }
            start += count;
        }
        return keys;
    }

    /// <summary>Adds a batch's unit keys to the queue, replacing the oldest once it is full.</summary>
    public void Enqueue(ReadOnlySpan<float> keys)
    {
        var n = keys.Length / Dim;
        var q = _queue.Data;
        var next = (int)_position.Data[0];
        for (var i = 0; i < n; i++)
        {
            keys.Slice(i * Dim, Dim).CopyTo(q.Slice(next * Dim, Dim));
            next = (next + 1) % QueueSize;
        }
        _position.Data[0] = next;
        _position.Data[1] = Math.Min(QueueSize, Queued + n);
    }
}
