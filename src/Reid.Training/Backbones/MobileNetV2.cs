using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;

namespace Reid.Training.Backbones;

/// <summary>
/// MobileNetV2 (Sandler et al. 2018), torchvision's layout: a 3x3/2 stem, 17 inverted residual blocks
/// (expand 1x1 + ReLU6, depthwise 3x3 + ReLU6, linear 1x1 projection, identity shortcut when shapes allow)
/// and a final 1x1 conv to 1280 channels (scaled with the width when it exceeds 1).
/// </summary>
public sealed class MobileNetV2 : Module, IBackbone
{
    // (expansion t, output channels c, repeats n, first stride s), from the paper's Table 2.
    private static readonly (int T, int C, int N, int S)[] Settings =
        [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];

    private readonly Sequential _features;

    public MobileNetV2(double width = 1.0, int lastStride = 2)
    {
        int cin = MakeDivisible(32 * width);
        int last = MakeDivisible(1280 * Math.Max(1.0, width));
        _features = new Sequential(new ConvBnRelu6(3, cin, 3, 2));
        for (int i = 0; i < Settings.Length; i++)
        {
            var (t, c, n, s) = Settings[i];
            if (i == 5) s = lastStride;   // the last stride-2 stage: 1 keeps a finer map for ReID
            int cout = MakeDivisible(c * width);
            for (int k = 0; k < n; k++)
            {
                _features.Add(new InvertedResidual(cin, cout, k == 0 ? s : 1, t));
                cin = cout;
            }
        }
        _features.Add(new ConvBnRelu6(cin, last, 1, 1));
        AddModule("features", _features);
        OutputDim = last;
    }

    public int OutputDim { get; }
    public bool Pools => false;
    public int MapChannels => OutputDim;

    public (Tensor Map, Tensor Output) ForwardWithMap(Tensor input)
    {
        var map = Forward(input);
        return (map, map);
    }

    public override Tensor Forward(Tensor input) => _features.Forward(input);

    /// <summary>Rounds channels to a multiple of 8, never more than 10% below the exact value (torchvision).</summary>
    private static int MakeDivisible(double v, int divisor = 8)
    {
        int n = Math.Max(divisor, (int)(v + divisor / 2.0) / divisor * divisor);
        return n < 0.9 * v ? n + divisor : n;
    }

    private sealed class ConvBnRelu6 : Sequential
    {
        public ConvBnRelu6(int cin, int cout, int kernel, int stride, int groups = 1)
            : base(new Conv2d(cin, cout, kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false),
                   new BatchNorm2d(cout), new ReLU6()) { }
    }

    private sealed class InvertedResidual : Module
    {
        private readonly Sequential _conv;
        private readonly bool _residual;

        public InvertedResidual(int cin, int cout, int stride, int expansion)
        {
            int hidden = cin * expansion;
            _residual = stride == 1 && cin == cout;
            _conv = new Sequential();
            if (expansion != 1) _conv.Add(new ConvBnRelu6(cin, hidden, 1, 1));
            _conv.Add(new ConvBnRelu6(hidden, hidden, 3, stride, groups: hidden));
            _conv.Add(new Conv2d(hidden, cout, 1, bias: false));
            _conv.Add(new BatchNorm2d(cout));
            AddModule("conv", _conv);
        }

        public override Tensor Forward(Tensor input)
        {
            var y = _conv.Forward(input);
            return _residual ? Ops.Add(input, y) : y;
        }
    }
}
