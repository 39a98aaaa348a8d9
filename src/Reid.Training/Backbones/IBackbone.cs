using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;

namespace Reid.Training.Backbones;

/// <summary>A feature extractor a <see cref="ReidModel"/> puts its head on.</summary>
public interface IBackbone
{
    /// <summary>Channels of the feature map (or length of the pooled feature).</summary>
    int OutputDim { get; }

    /// <summary>
    /// True when the backbone pools itself and returns [N, OutputDim] (OSNet, as published, ends in global
    /// pooling and an fc layer); false when it returns a [N, OutputDim, H, W] map for the head to pool.
    /// </summary>
    bool Pools { get; }

    /// <summary>
    /// The last feature map [N, C, H, W] (what a part-based head cuts into stripes) and the backbone's output
    /// (<see cref="Module.Forward"/>'s value, computed from the same pass). For a backbone that does not pool
    /// itself they are the same tensor.
    /// </summary>
    (Tensor Map, Tensor Output) ForwardWithMap(Tensor input);

    /// <summary>Channels of the map <see cref="ForwardWithMap"/> returns.</summary>
    int MapChannels { get; }
}
