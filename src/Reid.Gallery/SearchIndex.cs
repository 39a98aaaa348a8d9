using System.Buffers;
using System.Numerics.Tensors;
using Reid.Core;

namespace Reid.Gallery;

/// <summary>A sighting's cosine similarity to a probe.</summary>
public readonly record struct SightingHit(long SightingId, long IdentityId, float Score);

/// <summary>An identity's similarity to a probe: the best and the mean over its sightings.</summary>
public readonly record struct IdentityHit(long IdentityId, float Best, float Mean, int Sightings);

/// <summary>How a query scans the rows: the fused kernels (<see cref="DotKernels"/>) or the reference loops.</summary>
internal enum ScanKernel { Fused, Reference }

/// <summary>Options of the in-memory index.</summary>
/// <param name="Half">store vectors as fp16 (half the memory and bandwidth; scores differ by ~1e-3)</param>
/// <param name="ParallelThreshold">rows above which one query is split over the cores</param>
/// <param name="MaxParallelism">cores one query may use</param>
public sealed record SearchIndexOptions(bool Half = false, int ParallelThreshold = 200_000, int MaxParallelism = 0);

/// <summary>
/// Exact nearest-neighbour search over L2-normalised embeddings of one model: the vectors sit row after row in
/// one array (fp32 or fp16), a query is one streaming pass of SIMD dot products (cosine = dot for unit vectors),
/// so its cost is bounded by memory bandwidth. Rows are added incrementally and removed by swapping in the last
/// row. Readers share a lock; writers take it exclusively.
/// </summary>
public sealed class SearchIndex
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly SearchIndexOptions _options;
    private float[] _f32 = [];
    private Half[] _f16 = [];
    private long[] _sightings = [];
    private long[] _identities = [];
    private readonly Dictionary<long, int> _rowOfSighting = [];
    private int _count;

    public int Dimension { get; }
    public bool Half => _options.Half;

    public SearchIndex(int dimension, SearchIndexOptions? options = null)
    {
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension));
        Dimension = dimension;
        _options = options ?? new SearchIndexOptions();
    }

    public int Count { get { _lock.EnterReadLock(); try { return _count; } finally { _lock.ExitReadLock(); } } }

    /// <summary>Bytes the vectors occupy (what one query streams through).</summary>
    public long VectorBytes => (long)Count * Dimension * (Half ? 2 : 4);

    /// <summary>Adds (or replaces) a sighting's vector.</summary>
    public void Add(long sightingId, long identityId, ReadOnlySpan<float> vector)
    {
        CheckDimension(vector.Length);
        _lock.EnterWriteLock();
        try
        {
            if (!_rowOfSighting.TryGetValue(sightingId, out var row))
            {
                EnsureCapacity(_count + 1);
                row = _count++;
                _rowOfSighting[sightingId] = row;
            }
            _sightings[row] = sightingId;
            _identities[row] = identityId;
            if (Half) TensorPrimitives.ConvertToHalf(vector, _f16.AsSpan(row * Dimension, Dimension));
            else vector.CopyTo(_f32.AsSpan(row * Dimension, Dimension));
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Removes every sighting of an identity; returns how many rows went.</summary>
    public int RemoveIdentity(long identityId)
    {
        _lock.EnterWriteLock();
        try
        {
            var removed = 0;
            for (var row = _count - 1; row >= 0; row--)
            {
                if (_identities[row] != identityId) continue;
                RemoveRow(row);
                removed++;
            }
            return removed;
        }
        finally { _lock.ExitWriteLock(); }
    }

    public bool RemoveSighting(long sightingId)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_rowOfSighting.TryGetValue(sightingId, out var row)) return false;
            RemoveRow(row);
            return true;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>The sightings of an identity the index holds.</summary>
    public IReadOnlyList<long> SightingsOf(long identityId)
    {
        _lock.EnterReadLock();
        try
        {
            var list = new List<long>();
            for (var row = 0; row < _count; row++) if (_identities[row] == identityId) list.Add(_sightings[row]);
            return list;
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>The k sightings most similar to the probe, best first.</summary>
    public IReadOnlyList<SightingHit> TopSightings(ReadOnlySpan<float> probe, int k) => TopSightings(probe, k, ScanKernel.Fused);

    /// <summary>As <see cref="TopSightings(ReadOnlySpan{float}, int)"/> with a chosen scan (the benchmark compares them).</summary>
    internal IReadOnlyList<SightingHit> TopSightings(ReadOnlySpan<float> probe, int k, ScanKernel kernel)
    {
        CheckDimension(probe.Length);
        if (k <= 0) return [];
        _lock.EnterReadLock();
        var scores = ArrayPool<float>.Shared.Rent(Math.Max(1, _count));
        try
        {
            Score(probe, scores, kernel);
            var top = TopK(scores.AsSpan(0, _count), k);
            return top.Select(r => new SightingHit(_sightings[r], _identities[r], scores[r])).ToArray();
        }
        finally { ArrayPool<float>.Shared.Return(scores); _lock.ExitReadLock(); }
    }

    /// <summary>Identities ranked by their best sighting score (mean over sightings alongside), best first.</summary>
    public IReadOnlyList<IdentityHit> RankIdentities(ReadOnlySpan<float> probe, int k)
    {
        CheckDimension(probe.Length);
        if (k <= 0) return [];
        _lock.EnterReadLock();
        var scores = ArrayPool<float>.Shared.Rent(Math.Max(1, _count));
        try
        {
            Score(probe, scores, ScanKernel.Fused);
            var agg = new Dictionary<long, (float Best, double Sum, int N)>();
            for (var row = 0; row < _count; row++)
            {
                var s = scores[row];
                ref var a = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(agg, _identities[row], out var existed);
                a = existed ? (Math.Max(a.Best, s), a.Sum + s, a.N + 1) : (s, s, 1);
            }
            return agg.Select(kv => new IdentityHit(kv.Key, kv.Value.Best, (float)(kv.Value.Sum / kv.Value.N), kv.Value.N))
                .OrderByDescending(h => h.Best).ThenBy(h => h.IdentityId).Take(k).ToArray();
        }
        finally { ArrayPool<float>.Shared.Return(scores); _lock.ExitReadLock(); }
    }

    /// <summary>Best and mean score of one identity's sightings, or null when it has none in the index.</summary>
    public IdentityHit? ScoreIdentity(ReadOnlySpan<float> probe, long identityId)
    {
        CheckDimension(probe.Length);
        _lock.EnterReadLock();
        try
        {
            float best = float.NegativeInfinity;
            double sum = 0;
            var n = 0;
            var buffer = Half ? new float[Dimension] : null;
            for (var r = 0; r < _count; r++)
            {
                if (_identities[r] != identityId) continue;
                float s;
                if (Half)
                {
                    TensorPrimitives.ConvertToSingle(_f16.AsSpan(r * Dimension, Dimension), buffer);
                    s = TensorPrimitives.Dot(probe, buffer);
                }
                else s = TensorPrimitives.Dot(probe, _f32.AsSpan(r * Dimension, Dimension));
                best = Math.Max(best, s);
                sum += s;
                n++;
            }
            return n == 0 ? null : new IdentityHit(identityId, best, (float)(sum / n), n);
        }
        finally { _lock.ExitReadLock(); }
    }

    // One pass over all rows; long indexes are split into contiguous chunks over the cores.
    private void Score(ReadOnlySpan<float> probe, float[] scores, ScanKernel kernel)
    {
        var n = _count;
        if (n == 0) return;
        var cores = _options.MaxParallelism > 0 ? _options.MaxParallelism : Environment.ProcessorCount;
        if (n < _options.ParallelThreshold || cores <= 1)
        {
            ScoreRange(probe, scores, 0, n, kernel);
            return;
        }
        var q = probe.ToArray();
        var chunk = (n + cores - 1) / cores;
        Parallel.For(0, cores, new ParallelOptions { MaxDegreeOfParallelism = cores }, c =>
        {
            var start = c * chunk;
            if (start < n) ScoreRange(q, scores, start, Math.Min(n, start + chunk), kernel);
        });
    }

    private void ScoreRange(ReadOnlySpan<float> probe, float[] scores, int start, int end, ScanKernel kernel)
    {
        var d = Dimension;
        var rows = end - start;
        var dst = scores.AsSpan(start, rows);
        if (Half)
        {
            var data = _f16.AsSpan(start * d, rows * d);
            if (kernel == ScanKernel.Fused) DotKernels.Dot(probe, data, dst); else DotKernels.ReferenceDot(probe, data, dst);
        }
        else
        {
            var data = _f32.AsSpan(start * d, rows * d);
            if (kernel == ScanKernel.Fused) DotKernels.Dot(probe, data, dst); else DotKernels.ReferenceDot(probe, data, dst);
        }
    }

    // Indices of the k largest scores, best first (ties: lower row first), with a size-k min-heap.
    private static int[] TopK(ReadOnlySpan<float> scores, int k)
    {
        k = Math.Min(k, scores.Length);
        if (k == 0) return [];
        var heap = new PriorityQueue<int, (float, int)>(k, Comparer<(float Score, int Row)>.Create((a, b) =>
            a.Score != b.Score ? a.Score.CompareTo(b.Score) : b.Row.CompareTo(a.Row)));
        var floor = float.NegativeInfinity; // the heap's smallest score once full: most rows fail this one compare
        for (var i = 0; i < scores.Length; i++)
        {
            if (heap.Count < k)
            {
                heap.Enqueue(i, (scores[i], i));
                if (heap.Count == k) { heap.TryPeek(out _, out var first); floor = first.Item1; }
                continue;
            }
            if (!(scores[i] > floor)) continue;
            heap.DequeueEnqueue(i, (scores[i], i));
            heap.TryPeek(out _, out var min);
            floor = min.Item1;
        }
        var result = new int[heap.Count];
        for (var i = result.Length - 1; i >= 0; i--) result[i] = heap.Dequeue();
        return result;
    }

    private void RemoveRow(int row)
    {
        var last = _count - 1;
        _rowOfSighting.Remove(_sightings[row]);
        if (row != last)
        {
            _sightings[row] = _sightings[last];
            _identities[row] = _identities[last];
            if (Half) _f16.AsSpan(last * Dimension, Dimension).CopyTo(_f16.AsSpan(row * Dimension, Dimension));
            else _f32.AsSpan(last * Dimension, Dimension).CopyTo(_f32.AsSpan(row * Dimension, Dimension));
            _rowOfSighting[_sightings[row]] = row;
        }
        _count--;
    }

    private void EnsureCapacity(int rows)
    {
        if (rows <= _sightings.Length) return;
        var cap = Math.Max(1024, _sightings.Length * 2);
        while (cap < rows) cap *= 2;
        if ((long)cap * Dimension > Array.MaxLength) cap = (int)(Array.MaxLength / Dimension);
        if (cap < rows) throw new ReidException($"search index full: {rows} vectors of {Dimension} values exceed one array");
        Array.Resize(ref _sightings, cap);
        Array.Resize(ref _identities, cap);
        if (Half) Array.Resize(ref _f16, cap * Dimension);
        else Array.Resize(ref _f32, cap * Dimension);
    }

    /// <summary>Pre-sizes the index for a bulk load (avoids repeated doubling of a large array).</summary>
    public void Reserve(int rows)
    {
        _lock.EnterWriteLock();
        try { EnsureCapacity(rows); } finally { _lock.ExitWriteLock(); }
    }

    private void CheckDimension(int length)
    {
        if (length != Dimension)
            throw new ReidException($"embedding has {length} values but the index holds {Dimension}-d vectors (a different model?)");
    }
}
