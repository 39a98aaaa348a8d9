using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.Training.Backbones;

namespace Reid.Training.Tests.Backbones;

/// <summary>The from-scratch initialisation (architecture.weight_init: kaiming) gives each layer the spread it promises.</summary>
public class InitTests
{
    private static (double Mean, double Std) Moments(ReadOnlySpan<float> v)
    {
        double s = 0, s2 = 0;
        foreach (var x in v) { s += x; s2 += (double)x * x; }
        var mean = s / v.Length;
        return (mean, Math.Sqrt(s2 / v.Length - mean * mean));
    }

    [Fact]
    public void Kaiming_fan_out_sets_convolutions_linears_and_biases()
    {
        var rng = new Rng(5);
        var conv = new Conv2d(32, 64, 3, rng: rng);            // fan_out = 64·9
        var depthwise = new Conv2d(64, 64, 3, groups: 64, rng: rng); // PyTorch's fan_out ignores groups: 64·9
        var linear = new Linear(256, 400, rng: rng);
        var before = conv.Weight.Data.ToArray();

        foreach (var m in new Module[] { conv, depthwise, linear }) Init.KaimingFanOut(m, new Rng(9));

        var (cm, cs) = Moments(conv.Weight.Data);
        Assert.InRange(cm, -0.01, 0.01);
        Assert.InRange(cs / Math.Sqrt(2.0 / (64 * 9)), 0.95, 1.05);
        var (_, ds) = Moments(depthwise.Weight.Data);
        Assert.InRange(ds / Math.Sqrt(2.0 / (64 * 9)), 0.9, 1.1);
        var (_, ls) = Moments(linear.Weight.Data);
        Assert.InRange(ls / 0.01, 0.97, 1.03);
        Assert.All(conv.Bias!.Data.ToArray(), b => Assert.Equal(0f, b));
        Assert.All(linear.Bias!.Data.ToArray(), b => Assert.Equal(0f, b));
        Assert.NotEqual(before, conv.Weight.Data.ToArray());
    }

    [Fact]
    public void Kaiming_reaches_every_layer_of_a_reid_model_and_leaves_batchnorm_at_identity()
    {
        var model = new ReidModel(new ModelConfig { Backbone = "osnet_x0_25", Classes = 10 });
        Init.KaimingFanOut(model, new Rng(3));
        int classifiers = 0, norms = 0;
        foreach (var (name, p) in model.NamedParameters())
        {
            if (name.EndsWith("classifier.weight"))
            {
                Assert.InRange(Moments(p.Data).Std, 0.008, 0.012);
                classifiers++;
            }
            if (name.Contains("bn") && name.EndsWith("weight") && p.Shape.Length == 1)
            {
                Assert.All(p.Data.ToArray(), g => Assert.Equal(1f, g));
                norms++;
            }
        }
        Assert.Equal(1, classifiers);
        Assert.True(norms > 20, $"only {norms} BatchNorm scales found");
    }
}
