using Reid.Evaluation;
using Reid.Training.Adaptation;
using Reid.Training.Backbones;
using Reid.Training.Losses;

namespace Reid.Training.Tests.Adaptation;

public sealed class ClusteringTests
{
    [Fact]
    public void Dbscan_finds_dense_groups_and_leaves_isolated_points_as_noise()
    {
        // points on a line: 0,0.1,0.2 | 5,5.1,5.2,5.3 | 10 (alone)
        float[] x = [0, 0.1f, 0.2f, 5, 5.1f, 5.2f, 5.3f, 10];
        var n = x.Length;
        var d = new float[n * n];
        for (var i = 0; i < n; i++) for (var j = 0; j < n; j++) d[i * n + j] = Math.Abs(x[i] - x[j]);
        var labels = Dbscan.Cluster(d, n, eps: 0.15, minSamples: 2);
        Assert.Equal([0, 0, 0, 1, 1, 1, 1, Dbscan.Noise], labels);
        // a core point needs min_samples within eps, itself included: at eps 0.25 and 4, the first group's middle sees
        // only 3 (all noise), the second group's middle two see 4 and its ends join them as border points
        labels = Dbscan.Cluster(d, n, eps: 0.25, minSamples: 4);
        Assert.Equal([Dbscan.Noise, Dbscan.Noise, Dbscan.Noise, 0, 0, 0, 0, Dbscan.Noise], labels);
        Assert.Throws<ArgumentOutOfRangeException>(() => Dbscan.Cluster(d, n, eps: 0, minSamples: 2));
    }

    [Fact]
    public void Jaccard_distance_is_symmetric_zero_on_the_diagonal_and_separates_two_groups()
    {
        // two tight groups of 6 unit vectors around orthogonal directions
        var rng = new Random(3);
        var features = new float[12][];
        for (var i = 0; i < 12; i++)
        {
            var v = new float[4];
            v[i < 6 ? 0 : 1] = 1;
            for (var k = 0; k < 4; k++) v[k] += (float)(rng.NextDouble() * 0.1);
            var norm = MathF.Sqrt(v.Sum(a => a * a));
            features[i] = v.Select(a => a / norm).ToArray();
        }
        var cosine = DistanceMatrix.Compute(features, features, DistanceKind.Cosine);
        var j = ReRanker.Jaccard(cosine, k1: 5, k2: 2);
        for (var a = 0; a < 12; a++)
        {
            Assert.Equal(0, j[a, a], 4);
            for (var b = 0; b < 12; b++) Assert.Equal(j[a, b], j[b, a], 4);
        }
        Assert.True(j[0, 1] < 0.5 && j[0, 7] > 0.9, $"within {j[0, 1]}, across {j[0, 7]}");
        var labels = Dbscan.Cluster(j.Values, 12, eps: 0.6, minSamples: 3);
        Assert.Equal(2, labels.Distinct().Count());
        Assert.All(labels[..6], l => Assert.Equal(labels[0], l));
        Assert.All(labels[6..], l => Assert.Equal(labels[6], l));
    }

    [Fact]
    public void Cluster_contrast_gradient_matches_finite_differences_and_the_memory_follows_the_hardest_member()
    {
        const int n = 3, d = 4, c = 2;
        var rng = new Random(2);
        var x = Enumerable.Range(0, n * d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] memory = [1, 0, 0, 0, 0, 1, 0, 0];
        int[] y = [0, 1, 0];
        var g = new float[n * d];
        var loss = ClusterContrastLoss.Forward(x, n, d, memory, c, y, 0.5, g);
        Assert.True(loss > 0);
        for (var i = 0; i < x.Length; i++)
        {
            var keep = x[i];
            x[i] = keep + 1e-3f; var up = ClusterContrastLoss.Forward(x, n, d, memory, c, y, 0.5, default);
            x[i] = keep - 1e-3f; var down = ClusterContrastLoss.Forward(x, n, d, memory, c, y, 0.5, default);
            x[i] = keep;
            var numeric = (up - down) / 2e-3;
            Assert.True(Math.Abs(numeric - g[i]) <= 2e-3 + 2e-2 * Math.Abs(numeric), $"[{i}] analytic {g[i]} vs {numeric}");
        }

        // cluster 0 has members (1, 0.1) and (0.6, 0.8): the second is the harder; with momentum 0 the centroid becomes it
        var mem = new ClusterMemory([[1f, 0f], [0f, 1f]], [0, 1], 2, momentum: 0);
        mem.Update([1f, 0.1f, 0.6f, 0.8f], [0, 0]);
        Assert.Equal(0.6f, mem.Centroids[0], 4);
        Assert.Equal(0.8f, mem.Centroids[1], 4);
        Assert.Equal([0f, 1f], mem.Centroids[2..]); // cluster 1 was not in the batch
    }

    [Theory]
    [InlineData("osnet_x0_25/ls2/average/emb0/bnneck/cls0/parts2x256+arcface+center")]
    [InlineData("resnet50/ls1/gem/emb512/plain/cls751")]
    public void An_architecture_id_parses_back_into_the_configuration_that_wrote_it(string id)
    {
        var config = ModelConfig.Parse(id);
        Assert.Equal(id.Split('+')[0], config.Architecture);
        Assert.Throws<Reid.Core.ReidException>(() => ModelConfig.Parse("osnet/unknown"));
    }
}
