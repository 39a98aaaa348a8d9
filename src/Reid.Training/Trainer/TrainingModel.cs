using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.Training.Backbones;
using Reid.Training.Config;
using Reid.Training.Losses;

namespace Reid.Training.Trainer;

/// <summary>One batch's objective: named terms with their weights, the classifier's right answers (ArcFace's when
/// there is no softmax), and the features the centre loss moves its centres towards after Backward.</summary>
public sealed record BatchLosses(IReadOnlyList<(string Name, Tensor Loss, double Weight)> Terms, int Correct, float[]? CenterFeatures);

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

    /// <summary>
    /// One batch's objective as named terms, each with its weight (the log shows the unweighted values):
    /// the global head's identity and metric losses ("ce", "triplet", "arcface"), the part heads' mean ("parts"),
    /// distillation from a frozen <paramref name="teacher"/> ("distill") and the centre loss ("center").
    /// </summary>
    public BatchLosses Losses(Tensor images, int[] labels, LossesConfig l, ArchitectureConfig a, Rng rng, ReidModel? teacher)
    {
        var terms = new List<(string, Tensor, double)>();
        var branches = Model.Branches(images);
        var (feature, neck) = branches[0];
        // Dropout regularises the identity classifiers only (softmax and ArcFace see the same mask); the metric losses
        // and the exported embedding use the whole feature.
        var classifierInput = a.Dropout > 0 && (l.CrossEntropy.Weight > 0 || l.Arcface.Weight > 0)
            ? Ops.Dropout(neck, (float)a.Dropout, training: true, rng)
            : neck;
        terms.AddRange(HeadLosses(Model.Head, feature, classifierInput, ArcFaceWeight, labels, l, out var correct));
        if (branches.Count > 1)
        {
            // Each part learns identities from its stripe alone, with the global head's losses (own class weights);
            // their mean keeps the parts' share independent of how many there are.
            Tensor? partLoss = null;
            for (var i = 1; i < branches.Count; i++)
            {
                var (pf, pn) = branches[i];
                var arc = PartArcFaceWeights.Count > 0 ? PartArcFaceWeights[i - 1] : null;
                foreach (var (_, loss, weight) in HeadLosses(Model.Parts[i - 1], pf, pn, arc, labels, l, out _))
                {
                    var scaled = Ops.Scale(loss, (float)weight);
                    partLoss = partLoss is null ? scaled : Ops.Add(partLoss, scaled);
                }
            }
            if (partLoss is not null) terms.Add(("parts", Ops.Scale(partLoss, 1f / (branches.Count - 1)), a.Parts.LossWeight));
        }
        if (teacher is not null)
        {
            Tensor target;
            using (Tape.NoGrad()) target = teacher.Forward(images);
            terms.Add(("distill", LossOps.Distillation(feature, target, l.Distillation.Kind), l.Distillation.Weight));
        }
        float[]? centerFeatures = null;
        if (l.Center.Weight > 0)
        {
            centerFeatures = feature.ToArray();
            terms.Add(("center", LossOps.Center(feature, Centers!, labels), l.Center.Weight));
        }
        return new BatchLosses(terms, correct, centerFeatures);
    }

    /// <summary>Moves the centre-loss centres towards this batch's features (after Backward, as the centre loss prescribes).</summary>
    public void UpdateCenters(BatchLosses losses, int[] labels, CenterConfig center)
    {
        if (losses.CenterFeatures is not { } f) return;
        var n = labels.Length;
        CenterLoss.UpdateCenters(f, n, f.Length / n, Centers!.Data, labels, center.CenterLr);
    }

    /// <summary>
    /// The identity (softmax, ArcFace) and metric (triplet) losses of one head, in that order of configuration:
    /// the same for the global head and every part head.
    /// </summary>
    private static List<(string Name, Tensor Loss, double Weight)> HeadLosses(ReidHead head, Tensor feature, Tensor classifierInput,
        Parameter? arcFaceWeight, int[] labels, LossesConfig l, out int correct)
    {
        correct = 0;
        var terms = new List<(string, Tensor, double)>();
        if (l.CrossEntropy.Weight > 0)
            terms.Add(("ce", LossOps.CrossEntropy(head.Classify(classifierInput), labels, l.CrossEntropy.LabelSmoothing, out correct), l.CrossEntropy.Weight));
        if (l.Triplet.Weight > 0)
            terms.Add(("triplet", LossOps.Triplet(feature, labels, l.Triplet.Margin, l.Triplet.SoftMargin, out _), l.Triplet.Weight));
        if (l.Arcface.Weight > 0)
        {
            terms.Add(("arcface", LossOps.ArcFace(classifierInput, arcFaceWeight!, labels, l.Arcface.Margin, l.Arcface.Scale, out var arcCorrect), l.Arcface.Weight));
            if (l.CrossEntropy.Weight == 0) correct = arcCorrect;
        }
        return terms;
    }
}
