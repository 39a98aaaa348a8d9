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
        var dim = model.EmbeddingDim;
        if (arcFace)
        {
            // Xavier-uniform class weights, as the ArcFace reference code
            var bound = MathF.Sqrt(6f / (classes + dim));
            ArcFaceWeight = AddParameter("arcface", Tensor.RandomUniform(rng, -bound, bound, classes, dim), weightDecay: true);
        }
        if (centerLoss) Centers = AddBuffer("centers", Tensor.Zeros(classes, FeatureDim(model)));
    }

    public ReidModel Model { get; }
    public Parameter? ArcFaceWeight { get; }
    public Tensor? Centers { get; }

    public static readonly string[] HeadPrefixes = ["model.head.", "arcface"];

    /// <summary>The pre-BNNeck feature's size (what triplet and centre losses see).</summary>
    public static int FeatureDim(ReidModel model) => model.EmbeddingDim;

    public override Tensor Forward(Tensor input) => Model.Forward(input);
}
