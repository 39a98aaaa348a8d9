using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.TestSupport;

namespace Reid.Engine.Tests.Modules;

/// <summary>A two-block residual net small enough for tests, shaped like a ResNet stage.</summary>
internal sealed class TinyBlock : Module
{
    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;

    public TinyBlock(int channels)
    {
        _conv1 = AddModule("conv1", new Conv2d(channels, channels, 3, padding: 1, bias: false));
        _bn1 = AddModule("bn1", new BatchNorm2d(channels));
        _conv2 = AddModule("conv2", new Conv2d(channels, channels, 3, padding: 1, bias: false));
        _bn2 = AddModule("bn2", new BatchNorm2d(channels));
    }

    public override Tensor Forward(Tensor input)
    {
        var h = Ops.Relu(_bn1.Forward(_conv1.Forward(input)));
        h = _bn2.Forward(_conv2.Forward(h));
        return Ops.Relu(Ops.Add(h, input));
    }
}

internal sealed class TinyNet : Module
{
    private readonly Module _stem, _layer1, _head;

    public TinyNet(int classes, int width = 8)
    {
        _stem = AddModule("stem", new Sequential(new Conv2d(3, width, 3, stride: 2, padding: 1, bias: false), new BatchNorm2d(width), new ReLU()));
        _layer1 = AddModule("layer1", new Sequential(new TinyBlock(width), new TinyBlock(width)));
        _head = AddModule("head", new Linear(width, classes));
    }

    public override Tensor Forward(Tensor input)
    {
        var x = _layer1.Forward(_stem.Forward(input));
        return _head.Forward(Ops.Flatten(Ops.GlobalAvgPool(x)));
    }
}

public class ModuleTests
{
    [Fact]
    public void Parameters_and_buffers_have_dotted_names()
    {
        var net = new TinyNet(5);
        var names = net.NamedParameters().Select(p => p.Name).ToList();
        Assert.Contains("layer1.0.conv1.weight", names);
        Assert.Contains("stem.1.bias", names);
        Assert.Contains("head.weight", names);
        Assert.Contains("layer1.1.bn2.running_var", net.NamedBuffers().Select(b => b.Name));
        Assert.False(net.NamedParameters().First(p => p.Name == "head.bias").Parameter.WeightDecay);
        Assert.True(net.NamedParameters().First(p => p.Name == "head.weight").Parameter.WeightDecay);
        Assert.Contains(net.NamedModules(), m => m.Name == "layer1.0.conv1" && m.Module is Conv2d);
        Assert.Equal(net.StateDict().Count, names.Count + net.NamedBuffers().Count());
    }

    [Fact]
    public void Eval_propagates_to_children()
    {
        var net = new TinyNet(3);
        net.Eval();
        Assert.All(net.NamedModules(), m => Assert.False(m.Module.IsTraining));
        net.Train();
        Assert.All(net.NamedModules(), m => Assert.True(m.Module.IsTraining));
    }

    [Fact]
    public void LoadStateDict_copies_values_and_names_bad_tensors()
    {
        var a = new TinyNet(3);
        var b = new TinyNet(3);
        var state = a.StateDict().ToDictionary(kv => kv.Key, kv => (kv.Value.ShapeArray(), kv.Value.ToArray()));
        b.LoadStateDict(state);
        Assert.Equal(a.StateDict()["layer1.0.conv1.weight"].ToArray(), b.StateDict()["layer1.0.conv1.weight"].ToArray());

        var wrong = new Dictionary<string, (int[], float[])>(state) { ["head.weight"] = ([4, 8], new float[32]) };
        var e = Assert.Throws<ReidException>(() => b.LoadStateDict(wrong, source: "ckpt.bin"));
        Assert.Contains("head.weight", e.Message);
        Assert.Contains("ckpt.bin", e.Message);
        var missing = new Dictionary<string, (int[], float[])>(state);
        missing.Remove("stem.0.weight");
        Assert.Throws<ReidException>(() => b.LoadStateDict(missing));
        var extra = new Dictionary<string, (int[], float[])>(state) { ["fc.weight"] = ([1], [0f]) };
        Assert.Contains("fc.weight", Assert.Throws<ReidException>(() => b.LoadStateDict(extra)).Message);
    }

    [Fact]
    public void Eval_forward_under_no_grad_leaves_running_stats_alone()
    {
        var net = new TinyNet(3);
        var rv = net.StateDict()["stem.1.running_var"].ToArray();
        net.Eval();
        using (Tape.NoGrad())
        using (new TensorScope())
        {
            var y = net.Forward(Tensor.RandomNormal(new Rng(1), 0, 1, 2, 3, 16, 8));
            Assert.True(y.IsLeaf);
        }
        Assert.Equal(rv, net.StateDict()["stem.1.running_var"].ToArray());
    }
}

public class EndToEndTests
{
    /// <summary>Synthetic classes: each class is a colour tint plus a stripe orientation, with noise.</summary>
    private static (Tensor X, int[] Labels) Batch(Rng rng, int n, int classes)
    {
        var x = Tensor.Empty(n, 3, 16, 8);
        var labels = new int[n];
        var d = x.Data;
        for (var i = 0; i < n; i++)
        {
            var c = rng.NextInt(classes);
            labels[i] = c;
            for (var ch = 0; ch < 3; ch++)
                for (var y = 0; y < 16; y++)
                    for (var xx = 0; xx < 8; xx++)
                    {
                        var stripe = (c % 2 == 0 ? y : xx) % 4 < 2 ? 0.5f : -0.5f;
                        var tint = ch == c % 3 ? 0.8f : 0f;
                        d[((i * 3 + ch) * 16 + y) * 8 + xx] = tint + stripe * (c / 2 % 2 == 0 ? 1 : -1) + 0.3f * (float)rng.NextGaussian();
                    }
        }
        return (x, labels);
    }

    /// <summary>Cross-entropy as the trainer would write it: log-softmax, pick the label, mean.</summary>
    private static Tensor CrossEntropy(Tensor logits, int[] labels)
    {
        var logp = Ops.LogSoftmax(logits);
        var onehot = Tensor.Zeros(logits.ShapeArray());
        var k = logits.Dim(1);
        for (var i = 0; i < labels.Length; i++) onehot.Data[i * k + labels[i]] = -1f / labels.Length;
        return Ops.Sum(Ops.Mul(logp, onehot));
    }

    private static double Accuracy(Tensor logits, int[] labels)
    {
        var k = logits.Dim(1);
        var correct = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var row = logits.Data.Slice(i * k, k);
            var best = 0;
            for (var j = 1; j < k; j++) if (row[j] > row[best]) best = j;
            if (best == labels[i]) correct++;
        }
        return (double)correct / labels.Length;
    }

    [Theory]
    [InlineData(ComputePrecision.F32)]
    [Bf16InlineData(ComputePrecision.BF16)]
    public void Small_conv_net_learns_synthetic_classes(ComputePrecision precision)
    {
        Rng.Shared = new Rng(123);
        var rng = new Rng(99);
        const int classes = 4;
        var net = new TinyNet(classes);
        var (testX, testY) = Batch(new Rng(7), 64, classes);
        double Evaluate()
        {
            net.Eval();
            using var _ = Tape.NoGrad();
            using var scope = new TensorScope();
            using (Precision.Use(precision)) return Accuracy(net.Forward(testX), testY);
        }
        var before = Evaluate();
        var losses = new List<float>();
        var velocity = net.Parameters().ToDictionary(p => p, p => new float[p.Count]);
        for (var step = 0; step < 40; step++)
        {
            net.Train();
            using var scope = new TensorScope();
            using var prec = Precision.Use(precision);
            var (x, y) = Batch(rng, 32, classes);
            var loss = CrossEntropy(net.Forward(x), y);
            losses.Add(loss.Item());
            net.ZeroGrad();
            loss.Backward();
            // Plain SGD with momentum, inline: optimisers live elsewhere; this only drives the test.
            foreach (var p in net.Parameters())
            {
                if (p.Grad is null) continue;
                var v = velocity[p];
                var g = p.Grad.Data;
                var w = p.Data;
                for (var i = 0; i < w.Length; i++)
                {
                    v[i] = 0.9f * v[i] + g[i];
                    w[i] -= 0.05f * v[i];
                }
            }
        }
        var after = Evaluate();
        var first = losses.Take(5).Average();
        var last = losses.TakeLast(5).Average();
        Assert.True(last < 0.5 * first, $"loss {first:F3} → {last:F3}");
        Assert.True(after > before + 0.2 && after >= 0.8, $"accuracy {before:F2} → {after:F2}");
    }
}
