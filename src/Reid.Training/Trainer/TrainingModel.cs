using Reid.Training.Backbones;
using Reid.Training.Layers;
using Reid.Training.Tensors;

namespace Reid.Training.Trainer;

/// <summary>
/// What a run optimises and checkpoints: the <see cref="ReidModel"/> (exported at the end) plus the state
/// that only training needs — ArcFace's class weights and the centre-loss centres — so one checkpoint
/// restores all of it. Parameter names: "model.backbone.…", "model.head.…", "arcface.weight".
/// </summary>
public sealed class TrainingModel : Module
{
    public TrainingModel(ReidModel model, int classes, bool arcFace, bool centerLoss, Rng rng)
    {
        Model = AddModule("model", model);
        var dim = model.Head.EmbeddingDim;
        if (arcFace)
        {
            // Xavier-uniform class weights, as the ArcFace reference code
            Parameter ClassWeights(string name, int d)
            {
                var bound = MathF.Sqrt(6f / (classes + d));
                return AddParameter(name, Tensor.RandomUniform(rng, -bound, bound, classes, d), weightDecay: true);
            }
            ArcFaceWeight = ClassWeights("arcface", dim);
            PartArcFaceWeights = model.Parts.Select((p, i) => ClassWeights($"arcface_part{i}", p.EmbeddingDim)).ToArray();
        }
        if (centerLoss) Centers = AddBuffer("centers", Tensor.Zeros(classes, FeatureDim(model)));
    }

    public ReidModel Model { get; }
    public Parameter? ArcFaceWeight { get; }
    /// <summary>ArcFace class weights of each part head (empty without parts or ArcFace).</summary>
    public IReadOnlyList<Parameter> PartArcFaceWeights { get; } = [];
    public Tensor? Centers { get; }

    public static readonly string[] HeadPrefixes = ["model.head.", "model." + ReidModel.PartPrefix, "arcface"];

    /// <summary>The global head's pre-BNNeck feature size (what the centre loss sees).</summary>
    public static int FeatureDim(ReidModel model) => model.Head.EmbeddingDim;

    public override Tensor Forward(Tensor input) => Model.Forward(input);
}
