using Reid.Core;
using Reid.Engine.Checkpoints;
using Reid.Engine.Optim;
using Reid.Engine.Tensors;

namespace Reid.Engine.Tests.Optim;

internal sealed class ArrayParameter(string name, int[] shape, float[] value) : ITrainable
{
    public float[] Values = value;
    public float[] Grad = new float[value.Length];
    public string Name { get; } = name;
    public IReadOnlyList<int> Shape { get; } = shape;
    public bool WeightDecay { get; init; } = shape.Length > 1;
    public Span<float> Value => Values;
    public Span<float> Gradient => Grad;

    public static ArrayParameter Scalar(string name, float w, float g) => new(name, [1], [w]) { Grad = [g] };

    /// <summary>Length 37: more than one SIMD vector and a scalar tail.</summary>
    public static ArrayParameter Ramp(string name, int seed)
    {
        var p = new ArrayParameter(name, [37], Enumerable.Range(0, 37).Select(i => MathF.Sin(i + seed)).ToArray());
        p.Grad = Enumerable.Range(0, 37).Select(i => 0.3f * MathF.Cos(2 * i + seed)).ToArray();
        return p;
    }
}

public class OptimizerTests
{
    private static ParameterGroup Group(ITrainable p, double lr, double wd = 0) => new("g", [p], lr, wd);

    [Fact]
    public void SgdMomentumMatchesHandComputedSteps()
    {
        var p = ArrayParameter.Scalar("w", 1f, 0.5f);
        var sgd = new Sgd([Group(p, 0.1, 0.01)], momentum: 0.9);
        sgd.Step();
        Assert.Equal(0.949f, p.Values[0], 6);          // d = 0.5 + 0.01·1 = 0.51; w = 1 − 0.1·0.51
        sgd.Step();
        Assert.Equal(0.852151f, p.Values[0], 6);       // d = 0.50949; buf = 0.9·0.51 + d = 0.96849
    }

    [Fact]
    public void SgdNesterovLooksAhead()
    {
        var p = ArrayParameter.Scalar("w", 1f, 0.5f);
        new Sgd([Group(p, 0.1, 0.01)], momentum: 0.9, nesterov: true).Step();
        Assert.Equal(0.9031f, p.Values[0], 6);         // w − lr·(d + 0.9·buf) = 1 − 0.1·0.969
    }

    [Fact]
    public void PlainSgdWithoutMomentumKeepsNoState()
    {
        var p = ArrayParameter.Ramp("w", 3);
        var before = p.Values.ToArray();
        var sgd = new Sgd([Group(p, 0.5)], momentum: 0);
        sgd.Step();
        for (int i = 0; i < 37; i++) Assert.Equal(before[i] - 0.5f * p.Grad[i], p.Values[i], 6);
        Assert.Empty(sgd.StateTensors());
    }

    /// <summary>Textbook Adam in double precision: m̂ / (√v̂ + ε) after bias correction.</summary>
    private static double[] ReferenceAdam(double[] w, double[][] grads, double lr, double wd, bool decoupled)
    {
        w = w.ToArray();
        var m = new double[w.Length]; var v = new double[w.Length];
        for (int t = 1; t <= grads.Length; t++)
            for (int i = 0; i < w.Length; i++)
            {
                var g = grads[t - 1][i] + (decoupled ? 0 : wd * w[i]);
                if (decoupled) w[i] *= 1 - lr * wd;
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                var mhat = m[i] / (1 - Math.Pow(0.9, t));
                var vhat = v[i] / (1 - Math.Pow(0.999, t));
                w[i] -= lr * mhat / (Math.Sqrt(vhat) + 1e-8);
            }
        return w;
    }

    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(false, 0.05)]
    [InlineData(true, 0.05)]
    public void AdamAndAdamWMatchTheTextbookOverThreeSteps(bool decoupled, double wd)
    {
        var p = ArrayParameter.Ramp("w", 1);
        var w0 = p.Values.Select(x => (double)x).ToArray();
        var grads = new double[3][];
        Adam opt = decoupled ? new AdamW([Group(p, 0.01, wd)]) : new Adam([Group(p, 0.01, wd)]);
        for (int t = 0; t < 3; t++)
        {
            for (int i = 0; i < 37; i++) p.Grad[i] = 0.3f * MathF.Cos(2 * i + t) - 0.1f * t;
            grads[t] = p.Grad.Select(x => (double)x).ToArray();
            opt.Step();
        }
        var expected = ReferenceAdam(w0, grads, 0.01, wd, decoupled);
        for (int i = 0; i < 37; i++) Assert.Equal(expected[i], p.Values[i], 1e-5);
    }

    [Fact]
    public void AdamWFirstStepIsShrinkThenUnitStep()
    {
        var p = ArrayParameter.Scalar("w", 1f, 0.5f);
        new AdamW([Group(p, 0.1, 0.1)]).Step();
        Assert.Equal(0.89f, p.Values[0], 6);           // 1·(1 − 0.1·0.1) − 0.1·m̂/√v̂ = 0.99 − 0.1
    }

    [Fact]
    public void GroupsUseTheirOwnLearningRateTimesTheSchedule()
    {
        var a = ArrayParameter.Scalar("backbone.w", 0f, 1f);
        var b = ArrayParameter.Scalar("head.w", 0f, 1f);
        var sgd = new Sgd([new ParameterGroup("backbone", [a], 0.1), new ParameterGroup("head", [b], 1.0)],
            momentum: 0, schedule: new WarmupMultiStepSchedule(0, [1], Gamma: 0.5));
        sgd.Step();
        Assert.Equal(-0.1f, a.Values[0], 6);
        Assert.Equal(-1.0f, b.Values[0], 6);
        sgd.Step();                                     // milestone 1 passed: ×0.5
        Assert.Equal(-0.15f, a.Values[0], 6);
        Assert.Equal(-1.5f, b.Values[0], 6);
        Assert.Equal(2, sgd.StepCount);
    }

    [Fact]
    public void ParameterGroupsExcludeBiasesAndBatchNormFromWeightDecay()
    {
        var conv = new ArrayParameter("backbone.conv.weight", [4, 3, 1, 1], new float[12]);
        var bn = new ArrayParameter("backbone.bn.weight", [4], new float[4]);
        var fc = new ArrayParameter("head.classifier.weight", [10, 4], new float[40]);
        var neck = new ArrayParameter("head.bnneck.bias", [4], new float[4]);
        var groups = ParameterGroups.Build([conv, bn, fc, neck], 0.01, 0.1, 5e-4, ["head."]);
        Assert.Equal(["backbone", "backbone-no-decay", "head", "head-no-decay"], groups.Select(g => g.Name));
        Assert.Same(conv, groups[0].Parameters.Single());
        Assert.Equal(5e-4, groups[0].WeightDecay);
        Assert.Same(bn, groups[1].Parameters.Single());
        Assert.Equal(0, groups[1].WeightDecay);
        Assert.Equal(0.1, groups[2].LearningRate);
        Assert.Same(neck, groups[3].Parameters.Single());
    }

    [Fact]
    public void ParameterWithoutGradientIsLeftAlone()
    {
        var p = new ArrayParameter("unused", [3], [1, 2, 3]) { Grad = [] };
        var opt = new AdamW([Group(p, 0.1, 0.1)]);
        opt.Step();
        Assert.Equal([1f, 2f, 3f], p.Values);
        Assert.Equal(1, opt.StepCount);
    }

    [Fact]
    public void ParameterInTwoGroupsIsRejected()
    {
        var p = ArrayParameter.Scalar("w", 0, 0);
        Assert.Throws<ArgumentException>(() => new Sgd([Group(p, 1), Group(p, 1)]));
    }

    [Fact]
    public void ClipGlobalNormScalesAllGradientsTogether()
    {
        var a = new ArrayParameter("a", [2], [0, 0]) { Grad = [3, 4] };
        var b = new ArrayParameter("b", [1], [0]) { Grad = [12] };
        var norm = Gradients.ClipGlobalNorm([a, b], 6.5);
        Assert.Equal(13, norm, 6);
        Assert.Equal(1.5f, a.Grad[0], 5);
        Assert.Equal(2f, a.Grad[1], 5);
        Assert.Equal(6f, b.Grad[0], 5);
        Assert.Equal(6.5, Gradients.GlobalNorm([a, b]), 4);
        Assert.Equal(6.5, Gradients.ClipGlobalNorm([a, b], 100), 4);   // under the limit: untouched
        Assert.Equal(6f, b.Grad[0], 5);
    }

    [Fact]
    public void AccumulationAveragesMicroBatchesThenStepsAndZeroes()
    {
        var p = ArrayParameter.Scalar("w", 1f, 0f);
        var acc = new GradientAccumulator(new Sgd([Group(p, 0.1)], momentum: 0), steps: 2);
        p.Grad[0] += 0.4f;
        Assert.False(acc.MicroBatchDone());
        Assert.Equal(1f, p.Values[0]);
        p.Grad[0] += 0.8f;
        Assert.True(acc.MicroBatchDone());
        Assert.Equal(1f - 0.1f * 0.6f, p.Values[0], 6);
        Assert.Equal(0f, p.Grad[0]);
        Assert.Equal(0.6, acc.LastNorm, 5);
    }

    [Fact]
    public void StateRoundTripsThroughNamedTensorsAndContinuesIdentically()
    {
        var p1 = ArrayParameter.Ramp("w", 2);
        var p2 = ArrayParameter.Ramp("w", 2);
        var a = new AdamW([Group(p1, 0.01, 0.01)]);
        a.Step(); a.Step();
        var b = new AdamW([Group(p2, 0.01, 0.01)]);
        p1.Values.CopyTo(p2.Values, 0);
        b.LoadState(a.StateTensors().ToDictionary(t => t.Name), a.StepCount, "mem");
        a.Step(); b.Step();
        Assert.Equal(p1.Values, p2.Values);
        Assert.Equal(["optim/w/exp_avg", "optim/w/exp_avg_sq"], a.StateTensors().Select(t => t.Name));
    }

    [Fact]
    public void LoadStateNamesTheMissingOrMisshapenBuffer()
    {
        var p = ArrayParameter.Ramp("layer.w", 0);
        var opt = new Adam([Group(p, 0.01)]);
        var e = Assert.Throws<ReidException>(() => opt.LoadState(new Dictionary<string, NamedTensor>(), 0, "x.ckpt"));
        Assert.Contains("optim/layer.w/exp_avg", e.Message);
        var wrong = new Dictionary<string, NamedTensor>
        {
            ["optim/layer.w/exp_avg"] = new("optim/layer.w/exp_avg", [36], new float[36]),
        };
        e = Assert.Throws<ReidException>(() => opt.LoadState(wrong, 0, "x.ckpt"));
        Assert.Contains("x.ckpt", e.Message);
        Assert.Contains("[36]", e.Message);
    }
}
