using Reid.Core;
using Reid.Training.Data;

namespace Reid.Training.Tests.Data;

public sealed class PkSamplerTests
{
    // 10 identities with 1..10 images each (identity i has i+1 images)
    private static int[] Labels() => Enumerable.Range(0, 10).SelectMany(i => Enumerable.Repeat(i, i + 1)).ToArray();

    [Fact]
    public void Every_batch_has_P_identities_with_K_images_each()
    {
        var labels = Labels();
        var sampler = new PkSampler(labels, p: 4, k: 3, seed: 1, batchesPerEpoch: 20);
        var epoch = sampler.Epoch(0);
        Assert.Equal(20, epoch.Count);
        foreach (var batch in epoch)
        {
            Assert.Equal(12, batch.Length);
            var groups = batch.GroupBy(i => labels[i]).ToArray();
            Assert.Equal(4, groups.Length);
            Assert.All(groups, g => Assert.Equal(3, g.Count()));
            // laid out identity by identity: K consecutive indices share a label
            for (var j = 0; j < 4; j++) Assert.Single(batch[(j * 3)..(j * 3 + 3)].Select(i => labels[i]).Distinct());
        }
    }

    [Fact]
    public void Identities_with_at_least_K_images_are_drawn_without_repeats_and_smaller_ones_with_replacement()
    {
        var labels = Labels();
        var sampler = new PkSampler(labels, 4, 3, seed: 2, batchesPerEpoch: 50);
        var sawRepeatOfSmall = false;
        foreach (var batch in sampler.Epoch(0))
            for (var j = 0; j < 4; j++)
            {
                var chunk = batch[(j * 3)..(j * 3 + 3)];
                var id = labels[chunk[0]];
                if (id >= 2) Assert.Equal(3, chunk.Distinct().Count());
                else sawRepeatOfSmall |= chunk.Distinct().Count() < 3;
            }
        Assert.True(sawRepeatOfSmall); // identities 0 and 1 (1 and 2 images) can only fill K = 3 by repeating
    }

    [Fact]
    public void An_epoch_by_default_covers_the_images_about_once()
    {
        var labels = Enumerable.Range(0, 20).SelectMany(i => Enumerable.Repeat(i, 8)).ToArray(); // 160 images
        var sampler = new PkSampler(labels, 4, 4, seed: 3);
        Assert.Equal(10, sampler.BatchesPerEpoch);
        var seen = sampler.Epoch(0).SelectMany(b => b).ToArray();
        Assert.Equal(160, seen.Length);
        // the last identities' chunks may not fill a batch of P distinct identities; the next round tops up
        Assert.InRange(seen.Distinct().Count(), 144, 160);
    }

    [Fact]
    public void Batches_depend_only_on_seed_and_epoch()
    {
        var labels = Labels();
        var a = new PkSampler(labels, 4, 2, seed: 7, batchesPerEpoch: 8);
        var b = new PkSampler(labels, 4, 2, seed: 7, batchesPerEpoch: 8);
        Assert.Equal(a.Epoch(3), b.Epoch(3));
        Assert.NotEqual(a.Epoch(3), a.Epoch(4));
        Assert.NotEqual(a.Epoch(3), new PkSampler(labels, 4, 2, seed: 8, batchesPerEpoch: 8).Epoch(3));
    }

    [Fact]
    public void Too_few_identities_for_P_is_a_clear_error()
    {
        var e = Assert.Throws<ReidException>(() => new PkSampler([0, 0, 1, 1], 3, 2, 1));
        Assert.Contains("P = 3", e.Message);
    }

    [Fact]
    public void Identity_folds_are_disjoint_cover_every_identity_and_are_seeded()
    {
        var ids = Enumerable.Range(0, 101).Select(i => $"{i:D4}").ToArray();
        var folds = Enumerable.Range(0, 5).Select(f => IdentityFolds.HeldOut(ids, 5, f, seed: 0)).ToArray();
        Assert.Equal(101, folds.Sum(f => f.Count));
        Assert.Equal(101, folds.SelectMany(f => f).Distinct().Count());
        Assert.All(folds, f => Assert.InRange(f.Count, 20, 21));
        Assert.Equal(folds[2], IdentityFolds.HeldOut(ids.Reverse(), 5, 2, seed: 0)); // order of input irrelevant
        Assert.NotEqual(folds[2], IdentityFolds.HeldOut(ids, 5, 2, seed: 1));
        Assert.Empty(IdentityFolds.HeldOut(ids, 0, 0, 0));
    }
}
