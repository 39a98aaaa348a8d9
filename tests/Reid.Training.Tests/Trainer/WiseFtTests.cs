using Reid.Core;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.Training.Trainer;

namespace Reid.Training.Tests.Trainer;

public sealed class WiseFtTests
{
    private sealed class Net : Module
    {
        public Net(float w, float b)
        {
            Fc = AddModule("fc", new Linear(2, 2));
            Bn = AddModule("bn", new BatchNorm1d(2));
            Fc.Weight.Data.Fill(w);
            Fc.Bias!.Data.Fill(b);
        }
        public Linear Fc { get; }
        public BatchNorm1d Bn { get; }
        public override Tensor Forward(Tensor input) => Bn.Forward(Fc.Forward(input));
    }

    [Theory]
    [InlineData(1.0, 3f)]
    [InlineData(0.0, 1f)]
    [InlineData(0.25, 1.5f)]
    public void Interpolation_blends_every_shared_tensor_from_the_start_at_0_to_the_trained_at_1(double alpha, float expected)
    {
        var trained = new Net(3, 3);
        var start = new Net(1, 1);
        trained.Bn.RunningMean.Data.Fill(3);
        start.Bn.RunningMean.Data.Fill(1);
        // weight, bias, BN γ, β, running mean and variance: every tensor both nets have
        Assert.Equal(6, WiseFt.Interpolate(trained, start, alpha));
        Assert.All(trained.Fc.Weight.Data.ToArray(), v => Assert.Equal(expected, v, 5));
        Assert.All(trained.Fc.Bias!.Data.ToArray(), v => Assert.Equal(expected, v, 5));
        Assert.All(trained.Bn.RunningMean.Data.ToArray(), v => Assert.Equal(expected, v, 5));
        Assert.All(start.Fc.Weight.Data.ToArray(), v => Assert.Equal(1f, v)); // the start is left as it was
        Assert.Throws<ArgumentOutOfRangeException>(() => WiseFt.Interpolate(trained, start, 1.5));
    }

    [Fact]
    public void A_new_neck_blends_towards_the_identity_it_replaces()
    {
        var bn = new BatchNorm1d(2);
        bn.Weight.Data.Fill(3); bn.Bias.Data.Fill(2); bn.RunningMean.Data.Fill(4); bn.RunningVar.Data.Fill(9);
        WiseFt.InterpolateTowardsIdentity(bn, 0.5);
        Assert.All(bn.Weight.Data.ToArray(), v => Assert.Equal(2f, v, 5));
        Assert.All(bn.Bias.Data.ToArray(), v => Assert.Equal(1f, v, 5));
        Assert.All(bn.RunningMean.Data.ToArray(), v => Assert.Equal(2f, v, 5));
        WiseFt.InterpolateTowardsIdentity(bn, 0);
        // at 0 the layer passes its input through: (x − 0)/√(1 − ε + ε)·1 + 0
        bn.Eval();
        var x = Tensor.FromArray(new[] { 0.5f, -2f }, 1, 2);
        Assert.Equal(new[] { 0.5f, -2f }, bn.Forward(x).Data.ToArray(), new Tolerance(1e-5f));
    }

    private sealed class Tolerance(float t) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= t;
        public int GetHashCode(float v) => 0;
    }

    [Fact]
    public void Refreshing_batchnorm_sets_its_running_statistics_to_the_plain_average_over_the_batches()
    {
        var net = new Net(1, 0);
        net.Eval();
        // fc gives x0 + x1 in both outputs; batch means 1 and 5, unbiased variances 2 and 8 (pairs 0,2 and 3,7)
        Tensor Batch(float a, float b) => Tensor.FromArray(new[] { a, 0f, b, 0f }, 2, 2);
        Assert.Equal(1, WiseFt.RefreshBatchNorms(net, [Batch(0, 2), Batch(3, 7)]));
        Assert.All(net.Bn.RunningMean.Data.ToArray(), v => Assert.Equal(3f, v, 4));
        Assert.All(net.Bn.RunningVar.Data.ToArray(), v => Assert.Equal(5f, v, 4));
        Assert.False(net.IsTraining); // the mode and momentum it had come back
        Assert.Equal(0.1f, net.Bn.Momentum);
        Assert.Throws<ReidException>(() => WiseFt.RefreshBatchNorms(net, []));
    }
}
