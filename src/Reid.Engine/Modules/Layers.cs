using Reid.Core;
using Reid.Engine.Functional;
using Reid.Engine.Tensors;

namespace Reid.Engine.Modules;

/// <summary>2-D convolution; weight [out, in/groups, kh, kw], optional bias [out]. Depthwise: groups = in = out.</summary>
public sealed class Conv2d : Module
{
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1,
        int groups = 1, bool bias = true, Rng? rng = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), (padding, padding), (dilation, dilation), groups, bias, rng)
    {
    }

    public Conv2d(int inChannels, int outChannels, (int H, int W) kernelSize, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) dilation, int groups = 1, bool bias = true, Rng? rng = null)
    {
        if (inChannels < 1 || outChannels < 1 || groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ReidException($"Conv2d: {inChannels}→{outChannels} channels cannot be split into {groups} groups");
        InChannels = inChannels; OutChannels = outChannels; KernelSize = kernelSize; Stride = stride; Padding = padding;
        Dilation = dilation; Groups = groups;
        rng ??= Rng.Shared;
        var fanIn = inChannels / groups * kernelSize.H * kernelSize.W;
        using (var init = Init.DefaultWeight(rng, fanIn, outChannels, inChannels / groups, kernelSize.H, kernelSize.W))
            Weight = AddParameter("weight", init);
        if (bias)
            using (var b = Init.DefaultWeight(rng, fanIn, outChannels))
                Bias = AddParameter("bias", b, weightDecay: false);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public (int H, int W) KernelSize { get; }
    public (int H, int W) Stride { get; }
    public (int H, int W) Padding { get; }
    public (int H, int W) Dilation { get; }
    public int Groups { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public ConvSpec Spec => new(Stride.H, Stride.W, Padding.H, Padding.W, Dilation.H, Dilation.W, Groups);

    public override Tensor Forward(Tensor input)
    {
        Expect(input, 4, 1, InChannels);
        return Ops.Conv2d(input, Weight, Bias, Spec);
    }
}

/// <summary>Batch normalisation over channels (weight γ, bias β; buffers running_mean, running_var).</summary>
public class BatchNorm : Module
{
    private readonly int _rank;

    protected BatchNorm(int channels, int rank, float eps, float momentum, bool affine)
    {
        _rank = rank;
        Channels = channels; Eps = eps; Momentum = momentum;
        using (var one = Tensor.Ones(channels)) Weight = AddParameter("weight", one, weightDecay: false);
        using (var zero = Tensor.Zeros(channels)) Bias = AddParameter("bias", zero, weightDecay: false);
        Weight.RequiresGrad = affine;
        Bias.RequiresGrad = affine;
        using (var zero = Tensor.Zeros(channels)) RunningMean = AddBuffer("running_mean", zero);
        using (var one = Tensor.Ones(channels)) RunningVar = AddBuffer("running_var", one);
    }

    public int Channels { get; }
    public float Eps { get; }
    /// <summary>Weight of each new batch in the running statistics; WiSE-FT's refresh sets 1/(k+1) for a plain average.</summary>
    public float Momentum { get; set; }
    public Parameter Weight { get; }
    public Parameter Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }

    /// <summary>Sees every input before it is normalised (used to calibrate imported, folded BatchNorms).</summary>
    public Action<Tensor>? InputObserver { get; set; }

    public override Tensor Forward(Tensor input)
    {
        Expect(input, _rank, 1, Channels);
        InputObserver?.Invoke(input);
        return Ops.BatchNorm(input, Weight, Bias, RunningMean, RunningVar, IsTraining, Momentum, Eps);
    }
}

/// <summary>BatchNorm over [N,C,H,W].</summary>
public sealed class BatchNorm2d(int channels, float eps = 1e-5f, float momentum = 0.1f, bool affine = true)
    : BatchNorm(channels, 4, eps, momentum, affine);

/// <summary>BatchNorm over [N,C] (e.g. the BNNeck before the classifier).</summary>
public sealed class BatchNorm1d(int channels, float eps = 1e-5f, float momentum = 0.1f, bool affine = true)
    : BatchNorm(channels, 2, eps, momentum, affine);

/// <summary>y = x·Wᵀ + b; weight [out, in].</summary>
public sealed class Linear : Module
{
    public Linear(int inFeatures, int outFeatures, bool bias = true, Rng? rng = null)
    {
        InFeatures = inFeatures; OutFeatures = outFeatures;
        rng ??= Rng.Shared;
        using (var w = Init.DefaultWeight(rng, inFeatures, outFeatures, inFeatures)) Weight = AddParameter("weight", w);
        if (bias)
            using (var b = Init.DefaultWeight(rng, inFeatures, outFeatures))
                Bias = AddParameter("bias", b, weightDecay: false);
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public override Tensor Forward(Tensor input)
    {
        Expect(input, 2, 1, InFeatures);
        return Ops.Linear(input, Weight, Bias);
    }
}

/// <summary>ReLU; <paramref name="inPlace"/> overwrites the input (see Ops.ReluInPlace) to save memory.</summary>
public sealed class ReLU(bool inPlace = false) : Module
{
    public bool InPlace { get; } = inPlace;
    public override Tensor Forward(Tensor input) => InPlace ? Ops.ReluInPlace(input) : Ops.Relu(input);
}

public sealed class ReLU6 : Module
{
    public override Tensor Forward(Tensor input) => Ops.Relu6(input);
}

public sealed class Sigmoid : Module
{
    public override Tensor Forward(Tensor input) => Ops.Sigmoid(input);
}

public sealed class LeakyReLU(float slope = 0.01f) : Module
{
    public float Slope { get; } = slope;
    public override Tensor Forward(Tensor input) => Ops.LeakyRelu(input, Slope);
}

public sealed class Hardswish : Module
{
    public override Tensor Forward(Tensor input) => Ops.Hardswish(input);
}

public sealed class GELU : Module
{
    public override Tensor Forward(Tensor input) => Ops.Gelu(input);
}

public sealed class Identity : Module
{
    public override Tensor Forward(Tensor input) => input;
}

public sealed class MaxPool2d(int kernelSize, int? stride = null, int padding = 0) : Module
{
    public int KernelSize { get; } = kernelSize;
    public int Stride { get; } = stride ?? kernelSize;
    public int Padding { get; } = padding;
    public override Tensor Forward(Tensor input) => Ops.MaxPool2d(input, KernelSize, Stride, Padding);
}

public sealed class AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool countIncludePad = true) : Module
{
    public int KernelSize { get; } = kernelSize;
    public int Stride { get; } = stride ?? kernelSize;
    public int Padding { get; } = padding;
    public bool CountIncludePad { get; } = countIncludePad;
    public override Tensor Forward(Tensor input) => Ops.AvgPool2d(input, KernelSize, Stride, Padding, CountIncludePad);
}

/// <summary>[N,C,H,W] → [N,C,1,1] mean.</summary>
public sealed class GlobalAvgPool2d : Module
{
    public override Tensor Forward(Tensor input) => Ops.GlobalAvgPool(input);
}

/// <summary>Generalised-mean pooling with a learnable exponent p (parameter "p", initial 3).</summary>
public sealed class GeMPool2d : Module
{
    public GeMPool2d(float p = 3f, float eps = 1e-6f, bool learnable = true)
    {
        Eps = eps;
        using (var init = Tensor.Full(p, 1)) P = AddParameter("p", init, weightDecay: false);
        P.RequiresGrad = learnable;
    }

    public float Eps { get; }
    public Parameter P { get; }
    public override Tensor Forward(Tensor input) => Ops.GeM(input, P, Eps);
}

public sealed class Dropout(float p = 0.5f, Rng? rng = null) : Module
{
    public float P { get; } = p;
    public override Tensor Forward(Tensor input) => Ops.Dropout(input, P, IsTraining, rng);
}

/// <summary>[N, ...] → [N, rest].</summary>
public sealed class Flatten(int startAxis = 1) : Module
{
    public int StartAxis { get; } = startAxis;
    public override Tensor Forward(Tensor input) => Ops.Flatten(input, StartAxis);
}
