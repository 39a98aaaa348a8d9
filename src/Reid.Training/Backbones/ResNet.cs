using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;

namespace Reid.Training.Backbones;

/// <summary>
/// ResNet-18/34/50 (He et al. 2016), torchvision's layout and tensor names (conv1, bn1, layer1.0.conv1, …,
/// layerN.0.downsample.0/1), without the ImageNet fc. <c>lastStride = 1</c> is the ReID trick of Luo et al.
/// 2019 ("Bag of Tricks"): layer4 keeps the 16x8 map of a 256x128 input instead of 8x4.
/// ReLUs and residual sums overwrite the BN output they follow, as torchvision's in-place ReLU and
/// <c>out += identity</c> do: no backward reads those values, and training keeps 3 fewer activations per block.
/// </summary>
public sealed class ResNet : Module, IBackbone
{
    private readonly Module _conv1, _bn1, _maxpool;
    private readonly Module[] _layers;

    public ResNet(int depth, int lastStride = 2)
    {
        var (bottleneck, blocks) = depth switch
        {
            18 => (false, new[] { 2, 2, 2, 2 }),
            34 => (false, new[] { 3, 4, 6, 3 }),
            50 => (true, new[] { 3, 4, 6, 3 }),
            _ => throw new ArgumentException($"ResNet-{depth} is not defined here (18, 34 or 50)"),
        };
        if (lastStride is not (1 or 2)) throw new ArgumentException("last stride must be 1 or 2");
        Depth = depth;
        _conv1 = AddModule("conv1", new Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false));
        _bn1 = AddModule("bn1", new BatchNorm2d(64));
        _maxpool = AddModule("maxpool", new MaxPool2d(3, 2, 1));
        int expansion = bottleneck ? 4 : 1, cin = 64;
        int[] widths = [64, 128, 256, 512], strides = [1, 2, 2, lastStride];
        _layers = new Module[4];
        for (int i = 0; i < 4; i++)
        {
            var layer = new Sequential();
            for (int b = 0; b < blocks[i]; b++)
            {
                int stride = b == 0 ? strides[i] : 1;
                layer.Add(bottleneck ? new Bottleneck(cin, widths[i], stride) : new BasicBlock(cin, widths[i], stride));
                cin = widths[i] * expansion;
            }
            _layers[i] = AddModule($"layer{i + 1}", layer);
        }
        OutputDim = cin;
    }

    public int Depth { get; }
    public int OutputDim { get; }
    public bool Pools => false;
    public int MapChannels => OutputDim;

    public (Tensor Map, Tensor Output) ForwardWithMap(Tensor input)
    {
        var map = Forward(input);
        return (map, map);
    }

    public override Tensor Forward(Tensor input)
    {
        var x = _maxpool.Forward(Ops.ReluInPlace(_bn1.Forward(_conv1.Forward(input))));
        foreach (var layer in _layers) x = layer.Forward(x);
        return x;
    }

    private static Sequential? Downsample(int cin, int cout, int stride) =>
        stride == 1 && cin == cout ? null : new Sequential(new Conv2d(cin, cout, 1, stride: stride, bias: false), new BatchNorm2d(cout));

    /// <summary>Two 3x3 convs (ResNet-18/34).</summary>
    private sealed class BasicBlock : Module
    {
        private readonly Module _conv1, _bn1, _conv2, _bn2;
        private readonly Module? _downsample;

        public BasicBlock(int cin, int width, int stride)
        {
            _conv1 = AddModule("conv1", new Conv2d(cin, width, 3, stride: stride, padding: 1, bias: false));
            _bn1 = AddModule("bn1", new BatchNorm2d(width));
            _conv2 = AddModule("conv2", new Conv2d(width, width, 3, padding: 1, bias: false));
            _bn2 = AddModule("bn2", new BatchNorm2d(width));
            if (Downsample(cin, width, stride) is { } d) _downsample = AddModule("downsample", d);
        }

        public override Tensor Forward(Tensor input)
        {
            var y = Ops.ReluInPlace(_bn1.Forward(_conv1.Forward(input)));
            y = _bn2.Forward(_conv2.Forward(y));
            return Ops.ReluInPlace(Ops.AddInPlace(y, _downsample is null ? input : _downsample.Forward(input)));
        }
    }

    /// <summary>1x1 → 3x3 (stride here, as torchvision's "ResNet v1.5") → 1x1 x4 (ResNet-50).</summary>
    private sealed class Bottleneck : Module
    {
        private readonly Module _conv1, _bn1, _conv2, _bn2, _conv3, _bn3;
        private readonly Module? _downsample;

        public Bottleneck(int cin, int width, int stride)
        {
            _conv1 = AddModule("conv1", new Conv2d(cin, width, 1, bias: false));
            _bn1 = AddModule("bn1", new BatchNorm2d(width));
            _conv2 = AddModule("conv2", new Conv2d(width, width, 3, stride: stride, padding: 1, bias: false));
            _bn2 = AddModule("bn2", new BatchNorm2d(width));
            _conv3 = AddModule("conv3", new Conv2d(width, width * 4, 1, bias: false));
            _bn3 = AddModule("bn3", new BatchNorm2d(width * 4));
            if (Downsample(cin, width * 4, stride) is { } d) _downsample = AddModule("downsample", d);
        }

        public override Tensor Forward(Tensor input)
        {
            var y = Ops.ReluInPlace(_bn1.Forward(_conv1.Forward(input)));
            y = Ops.ReluInPlace(_bn2.Forward(_conv2.Forward(y)));
            y = _bn3.Forward(_conv3.Forward(y));
            return Ops.ReluInPlace(Ops.AddInPlace(y, _downsample is null ? input : _downsample.Forward(input)));
        }
    }
}
