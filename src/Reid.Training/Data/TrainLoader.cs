using System.Collections.Concurrent;
using System.Diagnostics;
using Reid.Engine.Tensors;
using Reid.Imaging;

namespace Reid.Training.Data;

/// <summary>One training batch: P·K augmented images (NCHW, normalised) and their dense identity labels.</summary>
public sealed record TrainBatch(int Epoch, int Index, float[] Images, int[] Labels, int Height, int Width)
{
    public int Count => Labels.Length;
}

/// <summary>
/// Feeds the training loop: background workers decode JPEGs (found's <see cref="ImageCodec"/>), resize,
/// augment and assemble whole batches ahead of the loop, into a bounded buffer of ready batches, so decoding
/// overlaps with the engine's compute. Batches come out in order whatever worker finished first; their
/// content depends only on (seed, epoch, batch, position), never on thread timing.
/// <see cref="WaitTime"/> is the time the consumer spent blocked on data: near zero means the engine never starved.
/// </summary>
public sealed class TrainLoader : IDisposable
{
    private readonly TrainImages _images;
    private readonly IReadOnlyList<int> _labels;
    private readonly Augmenter _augmenter;
    private readonly Preprocessing _resize;
    private readonly int _seed, _epoch;
    private readonly IReadOnlyList<int[]> _batches;
    private readonly ConcurrentDictionary<int, TrainBatch> _ready = new();
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread[] _workers;
    private readonly object _signal = new();
    private int _nextToMake, _nextToTake;
    private Exception? _failure;
    private long _waitTicks;

    /// <param name="batches">the epoch's batches from <see cref="PkSampler.Epoch"/>; <paramref name="startBatch"/> skips those a resumed run already trained on.</param>
    public TrainLoader(IReadOnlyList<string> paths, IReadOnlyList<int> labels, IReadOnlyList<int[]> batches, int epoch, int startBatch,
        Augmenter augmenter, int seed, int workers, int queueBatches)
        : this(TrainImages.Files(paths), labels, batches, epoch, startBatch, augmenter, seed, workers, queueBatches)
    {
    }

    /// <param name="images">files, packed crops or both (<see cref="TrainImages"/>); labels and batches index into them.</param>
    public TrainLoader(TrainImages images, IReadOnlyList<int> labels, IReadOnlyList<int[]> batches, int epoch, int startBatch,
        Augmenter augmenter, int seed, int workers, int queueBatches)
    {
        _images = images;
        _labels = labels;
        _batches = batches;
        _epoch = epoch;
        _augmenter = augmenter;
        _seed = seed;
        _resize = new Preprocessing(augmenter.Height, augmenter.Width, ChannelOrder.Rgb, 1f / 255f, (0, 0, 0), (1, 1, 1));
        _nextToMake = _nextToTake = startBatch;
        _slots = new SemaphoreSlim(Math.Max(queueBatches, workers));
        _workers = new Thread[Math.Max(1, workers)];
        for (var i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(Work) { IsBackground = true, Name = $"reid-loader-{i}", Priority = ThreadPriority.BelowNormal };
            _workers[i].Start();
        }
    }

    public int Batches => _batches.Count;

    /// <summary>Time the consumer waited for a batch that was not ready yet.</summary>
    public TimeSpan WaitTime => TimeSpan.FromTicks(Interlocked.Read(ref _waitTicks) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);

    /// <summary>The next batch in order, or null after the last. Rethrows a worker's error (a corrupt image names its file).</summary>
    public TrainBatch? Next()
    {
        if (_nextToTake >= _batches.Count) return null;
        var start = Stopwatch.GetTimestamp();
        TrainBatch? batch;
        lock (_signal)
        {
            while (!_ready.TryRemove(_nextToTake, out batch))
            {
                if (_failure is not null) throw _failure;
                Monitor.Wait(_signal, 100);
            }
        }
        Interlocked.Add(ref _waitTicks, Stopwatch.GetTimestamp() - start);
        _nextToTake++;
        _slots.Release();
        return batch;
    }

    private void Work()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                _slots.Wait(_stop.Token);
                var index = Interlocked.Increment(ref _nextToMake) - 1;
                if (index >= _batches.Count) return;
                var batch = Make(index);
                lock (_signal)
                {
                    _ready[index] = batch;
                    Monitor.PulseAll(_signal);
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e)
        {
            lock (_signal)
            {
                _failure ??= e;
                Monitor.PulseAll(_signal);
            }
        }
    }

    private TrainBatch Make(int index)
    {
        var ids = _batches[index];
        var len = _augmenter.Length;
        var images = new float[ids.Length * len];
        var labels = new int[ids.Length];
        var plain = new float[len];
        for (var j = 0; j < ids.Length; j++)
        {
            var image = _images.Decode(ids[j]);
            _resize.Apply(image, plain);
            var rng = new Rng(Seeds.Of(_seed, Seeds.Augmentation, _epoch, index, j));
            _augmenter.Apply(plain, images.AsSpan(j * len, len), rng);
            labels[j] = _labels[ids[j]];
        }
        return new TrainBatch(_epoch, index, images, labels, _augmenter.Height, _augmenter.Width);
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var t in _workers) t.Join();
        _slots.Dispose();
        _stop.Dispose();
    }
}
