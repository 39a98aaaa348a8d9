using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.Training.Losses;

namespace Reid.Training.Tests.Losses;

/// <summary>The losses on the engine's tape: gradients reach the inputs, scaled by weights, summed across losses.</summary>
public sealed class LossOpsTests
{
    [Fact]
    public void A_weighted_sum_of_losses_backpropagates_each_losss_gradient_times_its_weight()
    {
        var rng = new Rng(3);
        var features = Parameter.From(Tensor.RandomNormal(rng, 0, 1, 6, 4), "features");
        var weights = Parameter.From(Tensor.RandomNormal(rng, 0, 1, 3, 4), "arc");
        var centers = Tensor.Zeros(3, 4);
        int[] y = [0, 0, 1, 1, 2, 2];

        var total = Ops.Add(
            Ops.Add(Ops.Scale(LossOps.Triplet(features, y, 0.3, false, out var ts), 0.5f),
                    Ops.Scale(LossOps.ArcFace(features, weights, y, 0.3, 10, out _), 2f)),
            LossOps.Center(features, centers, y));
        total.Backward();

        var n = 6; var d = 4;
        var gT = new float[n * d]; var gA = new float[n * d]; var gW = new float[3 * d]; var gC = new float[n * d];
        var x = features.ToArray();
        TripletLoss.BatchHard(x, n, d, y, 0.3, false, gT);
        var arc = ArcFaceLoss.Forward(x, n, d, weights.ToArray(), 3, y, 0.3, 10, gA, gW, out _);
        var center = CenterLoss.Forward(x, n, d, new float[12], y, gC);
        Assert.Equal(0.5 * ts.Loss + 2 * arc + center, total.Item(), 4);
        var g = features.Grad!.ToArray();
        for (var i = 0; i < g.Length; i++) Assert.Equal(0.5f * gT[i] + 2f * gA[i] + gC[i], g[i], 5);
        var gw = weights.Grad!.ToArray();
        for (var i = 0; i < gw.Length; i++) Assert.Equal(2f * gW[i], gw[i], 5);
    }

    [Fact]
    public void Cross_entropy_op_gradient_flows_through_a_linear_layer()
    {
        var rng = new Rng(4);
        var x = Tensor.RandomNormal(rng, 0, 1, 4, 5);
        var layer = new Linear(5, 3, bias: false, rng: rng);
        var loss = LossOps.CrossEntropy(layer.Forward(x), [0, 1, 2, 1], 0.1, out _);
        loss.Backward();
        Assert.NotNull(layer.Weight.Grad);
        Assert.Contains(layer.Weight.Grad!.ToArray(), v => v != 0);
    }
}
