using Reid.Core;
using Reid.Imaging;
using Reid.TestSupport;
using Reid.Training.Config;
using Reid.Training.Data;
using Reid.Training.Tests.Support;

namespace Reid.Training.Tests.Data;

public sealed class TrainLoaderTests
{
    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f], Std = [0.229f, 0.224f, 0.225f];

    private static (string[] Paths, int[] Labels) Files(string root)
    {
        var paths = Directory.GetFiles(Path.Combine(root, "bounding_box_train")).Order(StringComparer.Ordinal).ToArray();
        var labels = paths.Select(p => int.Parse(Path.GetFileName(p)[..4]) - 1).ToArray();
        return (paths, labels);
    }

    private static List<TrainBatch> Drain(string[] paths, int[] labels, IReadOnlyList<int[]> batches, int workers, int start = 0)
    {
        var aug = new Augmenter(new AugmentationConfig(), 32, 16, Mean, Std);
        using var loader = new TrainLoader(paths, labels, batches, epoch: 2, startBatch: start, aug, seed: 5, workers, queueBatches: 2);
        var list = new List<TrainBatch>();
        while (loader.Next() is { } b) list.Add(b);
        Assert.True(loader.WaitTime >= TimeSpan.Zero);
        return list;
    }

    [Fact]
    public void Batches_arrive_in_order_with_the_samplers_labels_and_do_not_depend_on_the_number_of_workers()
    {
        using var dir = new TempDir();
        var (root, _) = SyntheticPeople.Write(dir.Path, identities: 6, imagesPerIdentity: 4);
        var (paths, labels) = Files(root);
        var batches = new PkSampler(labels, 3, 2, seed: 1, batchesPerEpoch: 7).Epoch(2);
        var one = Drain(paths, labels, batches, workers: 1);
        var three = Drain(paths, labels, batches, workers: 3);
        Assert.Equal(7, one.Count);
        for (var i = 0; i < 7; i++)
        {
            Assert.Equal(i, one[i].Index);
            Assert.Equal(batches[i].Select(j => labels[j]), one[i].Labels);
            Assert.Equal(3 * 32 * 16 * 6, one[i].Images.Length);
            Assert.Equal(one[i].Images, three[i].Images); // augmentation seeded per sample, not per thread
        }
        // a resumed epoch starting at batch 4 gets exactly the batches 4..6 of the full run
        var resumed = Drain(paths, labels, batches, workers: 2, start: 4);
        Assert.Equal(3, resumed.Count);
        Assert.Equal(one[4].Images, resumed[0].Images);
    }

    [Fact]
    public void A_corrupt_image_surfaces_as_an_error_naming_the_file()
    {
        using var dir = new TempDir();
        var (root, _) = SyntheticPeople.Write(dir.Path, identities: 3, imagesPerIdentity: 2);
        var (paths, labels) = Files(root);
        File.WriteAllBytes(paths[3], [0xFF, 0xD8, 0xFF, 0x00, 0x01]);
        var batches = new PkSampler(labels, 3, 2, seed: 1, batchesPerEpoch: 2).Epoch(0);
        var e = Assert.ThrowsAny<ReidException>(() => Drain(paths, labels, batches, workers: 2));
        Assert.Contains(Path.GetFileName(paths[3]), e.Message);
    }
}
