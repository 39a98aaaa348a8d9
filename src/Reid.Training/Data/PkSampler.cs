using Reid.Core;

namespace Reid.Training.Data;

/// <summary>
/// The P x K identity sampler of metric-learning ReID (Hermans et al. 2017): every batch holds P distinct
/// identities with K images each, so every anchor has positives and negatives for the triplet loss. An
/// epoch cuts each identity's shuffled images into chunks of K (an identity with fewer than K images is
/// topped up by drawing with replacement), then repeatedly takes one chunk from P random identities that
/// still have chunks; so every image is seen about once per epoch. The batches of an epoch depend only on
/// (seed, epoch): a resumed run replays exactly the batches an uninterrupted one would have seen.
/// </summary>
public sealed class PkSampler
{
    private readonly int[][] _imagesOf;
    private readonly int _seed;

    public int P { get; }
    public int K { get; }
    public int BatchSize => P * K;
    public int Identities => _imagesOf.Length;
    public int BatchesPerEpoch { get; }

    /// <param name="labels">dense identity index (0..C-1) of every training image.</param>
    /// <param name="batchesPerEpoch">0: as many as cover the images once (images / (P x K), at least 1).</param>
    public PkSampler(IReadOnlyList<int> labels, int p, int k, int seed, int batchesPerEpoch = 0)
    {
        if (p < 1 || k < 1) throw new ArgumentOutOfRangeException(nameof(p), "P and K must be at least 1");
        var classes = labels.Count == 0 ? 0 : labels.Max() + 1;
        var lists = new List<int>[classes];
        for (var i = 0; i < classes; i++) lists[i] = [];
        for (var i = 0; i < labels.Count; i++)
        {
            if (labels[i] < 0) throw new ArgumentException($"label {labels[i]} of image {i} is negative");
            lists[labels[i]].Add(i);
        }
        _imagesOf = lists.Where(l => l.Count > 0).Select(l => l.ToArray()).ToArray();
        if (_imagesOf.Length < p)
            throw new ReidException($"the P x K sampler needs at least P = {p} identities but the training set has {_imagesOf.Length}");
        P = p;
        K = k;
        _seed = seed;
        BatchesPerEpoch = batchesPerEpoch > 0 ? batchesPerEpoch : Math.Max(1, labels.Count / (p * k));
    }

    /// <summary>The image indices of every batch of <paramref name="epoch"/>, P·K each, grouped identity by identity.</summary>
    public IReadOnlyList<int[]> Epoch(int epoch)
    {
        var rng = new Random(Seeds.Int(_seed, epoch, Seeds.Sampler));
        var batches = new List<int[]>(BatchesPerEpoch);
        while (batches.Count < BatchesPerEpoch) Round(rng, batches);
        return batches;
    }

    // One pass over the identities' chunks; may yield fewer batches than an epoch needs, then another round runs.
    private void Round(Random rng, List<int[]> batches)
    {
        var chunks = new Queue<int[]>[_imagesOf.Length];
        for (var id = 0; id < _imagesOf.Length; id++)
        {
            var images = _imagesOf[id];
            int[] order;
            if (images.Length >= K)
            {
                order = (int[])images.Clone();
                rng.Shuffle(order);
            }
            else
            {
                order = new int[K];
                for (var j = 0; j < K; j++) order[j] = images[rng.Next(images.Length)];
            }
            chunks[id] = new Queue<int[]>(Enumerable.Range(0, order.Length / K).Select(c => order[(c * K)..((c + 1) * K)]));
        }
        var available = Enumerable.Range(0, _imagesOf.Length).ToList();
        while (available.Count >= P && batches.Count < BatchesPerEpoch)
        {
            var batch = new int[P * K];
            // partial Fisher-Yates: the first P entries of `available` become P distinct random identities
            for (var i = 0; i < P; i++)
            {
                var j = i + rng.Next(available.Count - i);
                (available[i], available[j]) = (available[j], available[i]);
                chunks[available[i]].Dequeue().CopyTo(batch, i * K);
            }
            batches.Add(batch);
            available.RemoveAll(id => chunks[id].Count == 0);
        }
    }
}
