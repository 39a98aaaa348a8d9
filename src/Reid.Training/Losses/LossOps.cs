using Reid.Engine.Autograd;
using Reid.Engine.Tensors;

namespace Reid.Training.Losses;

/// <summary>
/// The losses as differentiable ops on the engine's tape: each computes value and exact gradient in one
/// pass with the span kernels, returns a 1-element tensor, and records a backward that scales the stored
/// gradient by the incoming one (so weights and sums of losses compose with the engine's ops).
/// </summary>
public static class LossOps
{
    public static Tensor CrossEntropy(Tensor logits, int[] labels, double smoothing, out int correct)
    {
        var (n, c) = Rows(logits, "logits");
        var grad = new float[n * c];
        var loss = CrossEntropyLoss.Forward(logits.Data, n, c, labels, smoothing, grad, out correct);
        return Record("CrossEntropyLoss", loss, [logits], [grad]);
    }

    public static Tensor Triplet(Tensor features, int[] labels, double margin, bool softMargin, out TripletStats stats)
    {
        var (n, d) = Rows(features, "features");
        var grad = new float[n * d];
        stats = TripletLoss.BatchHard(features.Data, n, d, labels, margin, softMargin, grad);
        return Record("TripletLoss", stats.Loss, [features], [grad]);
    }

    public static Tensor ArcFace(Tensor features, Tensor classWeights, int[] labels, double margin, double scale, out int correct)
    {
        var (n, d) = Rows(features, "features");
        var (c, dw) = Rows(classWeights, "ArcFace class weights");
        if (dw != d) throw new ArgumentException($"ArcFace class weights have {dw} columns, the features {d}");
        var gx = new float[n * d];
        var gw = new float[c * d];
        var loss = ArcFaceLoss.Forward(features.Data, n, d, classWeights.Data, c, labels, margin, scale, gx, gw, out correct);
        return Record("ArcFaceLoss", loss, [features, classWeights], [gx, gw]);
    }

    /// <summary>Centre loss against <paramref name="centers"/> (a [classes x d] buffer, not differentiated).</summary>
    public static Tensor Center(Tensor features, Tensor centers, int[] labels)
    {
        var (n, d) = Rows(features, "features");
        var grad = new float[n * d];
        var loss = CenterLoss.Forward(features.Data, n, d, centers.Data, labels, grad);
        return Record("CenterLoss", loss, [features], [grad]);
    }

    /// <summary>Cluster Contrast's InfoNCE against a [clusters x D] memory of unit centroids (not differentiated).</summary>
    public static Tensor ClusterContrast(Tensor features, float[] memory, int clusters, int[] labels, double temperature)
    {
        var (n, d) = Rows(features, "features");
        var grad = new float[n * d];
        var loss = ClusterContrastLoss.Forward(features.Data, n, d, memory, clusters, labels, temperature, grad);
        return Record("ClusterContrastLoss", loss, [features], [grad]);
    }

    /// <summary>MoCo's InfoNCE of queries against their momentum keys and a queue of other keys (both constants).</summary>
    public static Tensor Moco(Tensor queries, float[] keys, float[] queue, int queued, double temperature, out int correct)
    {
        var (n, d) = Rows(queries, "queries");
        var grad = new float[n * d];
        var loss = MocoLoss.Forward(queries.Data, keys, n, d, queue, queued, temperature, grad, out correct);
        return Record("MocoLoss", loss, [queries], [grad]);
    }

    /// <summary>Distillation towards a frozen teacher's [N x D'] features of the same batch (not differentiated).</summary>
    public static Tensor Distillation(Tensor features, Tensor teacher, Config.DistillationKind kind)
    {
        var (n, d) = Rows(features, "features");
        var (nt, dt) = Rows(teacher, "teacher features");
        if (nt != n) throw new ArgumentException($"the teacher saw {nt} images, the student {n}");
        var grad = new float[n * d];
        var loss = kind switch
        {
            Config.DistillationKind.Feature when dt != d =>
                throw new Core.ReidException($"losses.distillation.kind = feature needs the teacher's width ({dt}) to equal the student's feature ({d}); use kind: similarity"),
            Config.DistillationKind.Feature => DistillationLoss.Feature(features.Data, teacher.Data, n, d, grad),
            _ => DistillationLoss.Similarity(features.Data, d, teacher.Data, dt, n, grad),
        };
        return Record("DistillationLoss", loss, [features], [grad]);
    }

    private static (int Rows, int Cols) Rows(Tensor t, string what)
    {
        if (t.Rank != 2) throw new ArgumentException($"{what}: expected [N, D], got {t.Describe()}");
        return (t.Dim(0), t.Dim(1));
    }

    private static Tensor Record(string op, double loss, Tensor[] inputs, float[][] grads)
    {
        var output = Tensor.Scalar((float)loss);
        return Tape.Record(op, output, inputs, g =>
        {
            var scale = g.Data[0];
            var result = new Tensor?[inputs.Length];
            for (var i = 0; i < inputs.Length; i++)
            {
                if (!Tape.NeedsGrad(inputs[i])) continue;
                var t = Tensor.FromArray(grads[i], inputs[i].ShapeArray());
                if (scale != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(t.Data, scale, t.Data);
                result[i] = t;
            }
            return result;
        });
    }
}
