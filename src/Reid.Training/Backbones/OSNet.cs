using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;

namespace Reid.Training.Backbones;

/// <summary>
/// Omni-Scale Network (Zhou, Yang, Cavallaro, Xiang, ICCV 2019), exactly torchreid's definition: module and
/// tensor names follow torchreid's so its state dicts (and ONNX exports) map onto this one.
/// Stem 7x7/2 conv + 3x3/2 max pool; three stages of two OSBlocks (the first two end in a 1x1 conv and 2x2
/// average pool); a 1x1 conv; global average pooling; then <c>fc</c> = Linear + BatchNorm1d + ReLU to a
/// 512-d feature. Width multipliers scale the stage widths 64/256/384/512.
/// </summary>
public sealed class OSNet : Module, IBackbone
{
    private readonly Module _conv1, _maxpool, _conv2, _conv3, _conv4, _conv5, _pool;
    private readonly Module? _fc;

    /// <param name="width">0.25, 0.5, 0.75 or 1.0 (channels [16,64,96,128] … [64,256,384,512]).</param>
    /// <param name="featureDim">Output of the fc layer (torchreid: 512); 0 leaves it out (output = last stage width).</param>
    /// <param name="gemP">
    /// Null: global average pooling (torchreid). Otherwise generalised-mean pooling starting at this exponent: OSNet
    /// pools inside the backbone, before its fc layer, so the head's pooling choice has to be made here.
    /// </param>
    /// <param name="lastStride">
    /// 2 (torchreid): conv3 ends in a 2x2 average pool, a 16x8 final map at 256x128. 1 drops that pool, so conv4/conv5
    /// run on a 32x16 map: the "last stride 1" trick of Luo et al. 2019 applied to OSNet. No weights change, so
    /// torchreid weights load either way.
    /// </param>
    public OSNet(double width = 1.0, int featureDim = 512, float? gemP = null, int lastStride = 2)
    {
        if (lastStride is not (1 or 2)) throw new ArgumentException("last stride must be 1 or 2");
        int[] c = [Scale(64, width), Scale(256, width), Scale(384, width), Scale(512, width)];
        _conv1 = AddModule("conv1", new ConvLayer(3, c[0], 7, stride: 2, padding: 3));
        _maxpool = AddModule("maxpool", new MaxPool2d(3, 2, 1));
        _conv2 = AddModule("conv2", Stage(c[0], c[1], reduceSpatialSize: true));
        _conv3 = AddModule("conv3", Stage(c[1], c[2], reduceSpatialSize: true, pool: lastStride == 2));
        _conv4 = AddModule("conv4", Stage(c[2], c[3], reduceSpatialSize: false));
        _conv5 = AddModule("conv5", new Conv1x1(c[3], c[3]));
        MapChannels = c[3];
        _pool = gemP is { } p ? AddModule("global_gempool", new GeMPool2d(p)) : AddModule("global_avgpool", new GlobalAvgPool2d());
        if (featureDim > 0)
        {
            _fc = AddModule("fc", new Sequential(new Linear(c[3], featureDim), new BatchNorm1d(featureDim), new ReLU()));
            OutputDim = featureDim;
        }
        else OutputDim = c[3];
    }

    public int OutputDim { get; }

    /// <summary>Pooled features [N, OutputDim] (OSNet pools inside the backbone, before its fc layer).</summary>
    public bool Pools => true;

    private static int Scale(int channels, double width) => (int)Math.Round(channels * width);

    private static Sequential Stage(int cin, int cout, bool reduceSpatialSize, bool pool = true)
    {
        var s = new Sequential(new OSBlock(cin, cout), new OSBlock(cout, cout));
        if (!reduceSpatialSize) return s;
        // The transition keeps its 1x1 conv (and its name, conv{N}.2.0) without the pool, so weights still map.
        var transition = new Sequential(new Conv1x1(cout, cout));
        if (pool) transition.Add(new AvgPool2d(2, 2));
        s.Add(transition);
        return s;
    }

    public override Tensor Forward(Tensor input) => ForwardWithMap(input).Output;

    public int MapChannels { get; }

    public (Tensor Map, Tensor Output) ForwardWithMap(Tensor input)
    {
        var x = _conv1.Forward(input);
        x = _maxpool.Forward(x);
        x = _conv2.Forward(x);
        x = _conv3.Forward(x);
        x = _conv4.Forward(x);
        var map = _conv5.Forward(x);
        x = Ops.Flatten(_pool.Forward(map));
        return (map, _fc is null ? x : _fc.Forward(x));
    }

    /// <summary>Conv + BN + ReLU (torchreid ConvLayer, used for the stem).</summary>
    private sealed class ConvLayer : Module
    {
        private readonly Module _conv, _bn;

        public ConvLayer(int cin, int cout, int kernel, int stride = 1, int padding = 0, int groups = 1)
        {
            _conv = AddModule("conv", new Conv2d(cin, cout, kernel, stride: stride, padding: padding, groups: groups, bias: false));
            _bn = AddModule("bn", new BatchNorm2d(cout));
        }

        public override Tensor Forward(Tensor input) => Ops.Relu(_bn.Forward(_conv.Forward(input)));
    }

    /// <summary>1x1 conv + BN, with or without the ReLU (torchreid Conv1x1 / Conv1x1Linear).</summary>
    private sealed class Conv1x1 : Module
    {
        private readonly Module _conv, _bn;
        private readonly bool _relu;

        public Conv1x1(int cin, int cout, bool relu = true)
        {
            _conv = AddModule("conv", new Conv2d(cin, cout, 1, bias: false));
            _bn = AddModule("bn", new BatchNorm2d(cout));
            _relu = relu;
        }

        public override Tensor Forward(Tensor input)
        {
            var x = _bn.Forward(_conv.Forward(input));
            return _relu ? Ops.Relu(x) : x;
        }
    }

    /// <summary>Lite 3x3: pointwise 1x1 (linear) then depthwise 3x3 + BN + ReLU.</summary>
    private sealed class LightConv3x3 : Module
    {
        private readonly Module _conv1, _conv2, _bn;

        public LightConv3x3(int cin, int cout)
        {
            _conv1 = AddModule("conv1", new Conv2d(cin, cout, 1, bias: false));
            _conv2 = AddModule("conv2", new Conv2d(cout, cout, 3, padding: 1, groups: cout, bias: false));
            _bn = AddModule("bn", new BatchNorm2d(cout));
        }

        public override Tensor Forward(Tensor input) => Ops.Relu(_bn.Forward(_conv2.Forward(_conv1.Forward(input))));
    }

    /// <summary>Aggregation gate: a channel-wise sigmoid gate from globally pooled features (shared by all streams).</summary>
    private sealed class ChannelGate : Module
    {
        private readonly Module _pool, _fc1, _fc2;

        public ChannelGate(int channels, int reduction = 16)
        {
            _pool = AddModule("global_avgpool", new GlobalAvgPool2d());
            _fc1 = AddModule("fc1", new Conv2d(channels, channels / reduction, 1, bias: true));
            _fc2 = AddModule("fc2", new Conv2d(channels / reduction, channels, 1, bias: true));
        }

        public override Tensor Forward(Tensor input)
        {
            var g = Ops.Sigmoid(_fc2.Forward(Ops.Relu(_fc1.Forward(_pool.Forward(input)))));
            return Ops.Mul(input, g);
        }
    }

    /// <summary>Omni-scale residual block: four streams of 1–4 lite 3x3 convs, fused by the shared gate.</summary>
    private sealed class OSBlock : Module
    {
        private const int BottleneckReduction = 4;
        private readonly Module _conv1, _conv2a, _conv2b, _conv2c, _conv2d, _gate, _conv3;
        private readonly Module? _downsample;

        public OSBlock(int cin, int cout)
        {
            var mid = cout / BottleneckReduction;
            _conv1 = AddModule("conv1", new Conv1x1(cin, mid));
            _conv2a = AddModule("conv2a", new LightConv3x3(mid, mid));
            _conv2b = AddModule("conv2b", Stream(mid, 2));
            _conv2c = AddModule("conv2c", Stream(mid, 3));
            _conv2d = AddModule("conv2d", Stream(mid, 4));
            _gate = AddModule("gate", new ChannelGate(mid));
            _conv3 = AddModule("conv3", new Conv1x1(mid, cout, relu: false));
            if (cin != cout) _downsample = AddModule("downsample", new Conv1x1(cin, cout, relu: false));
        }

        private static Sequential Stream(int channels, int depth)
        {
            var s = new Sequential();
            for (int i = 0; i < depth; i++) s.Add(new LightConv3x3(channels, channels));
            return s;
        }

        public override Tensor Forward(Tensor input)
        {
            var x1 = _conv1.Forward(input);
            var x2a = _conv2a.Forward(x1);
            var x2b = _conv2b.Forward(x1);
            var x2c = _conv2c.Forward(x1);
            var x2d = _conv2d.Forward(x1);
            // Same order as torchreid, so a traced graph lines up node for node with its ONNX export.
            var x2 = Ops.Add(Ops.Add(Ops.Add(_gate.Forward(x2a), _gate.Forward(x2b)), _gate.Forward(x2c)), _gate.Forward(x2d));
            var x3 = _conv3.Forward(x2);
            var identity = _downsample is null ? input : _downsample.Forward(input);
            return Ops.Relu(Ops.Add(x3, identity));
        }
    }
}
