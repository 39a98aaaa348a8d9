using Reid.Training.Layers;

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
}
