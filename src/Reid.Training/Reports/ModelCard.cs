using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Reid.Engine.Tensors;
using Reid.Training.Config;

namespace Reid.Training.Reports;

public sealed record ModelCardFacts(
    ExperimentConfig Config, string Command, string RecipePath, string RecipeText, string Data, string? Init, string Architecture,
    long Parameters, double WallSeconds, int Resumes, IReadOnlyList<EpochMetrics> Metrics, string ModelFile, int EmbeddingDim,
    CpuCapabilities Cpu, string PrecisionNote, string? Distillation = null, string? WiseFt = null);

/// <summary>
/// The model card written next to the exported ONNX: what was trained, how (recipe and command), on what
/// data and under which terms, how long it took on which machine, and the figures measured during training.
/// The final holdout figures are not invented here: the card says to run `reid evaluate` on the export.
/// </summary>
public static class ModelCard
{
    public static string Write(string path, ModelCardFacts f)
    {
        var c = f.Config;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine($"# Model card: {c.Name}");
        sb.AppendLine();
        sb.AppendLine($"- Model file: `{f.ModelFile}` (ONNX; input `images` batch x 3 x {c.Data.Height} x {c.Data.Width}, RGB, /255, ImageNet mean/std; output `embeddings` batch x {f.EmbeddingDim}, compare with cosine distance)");
        sb.AppendLine($"- Architecture: `{f.Architecture}` ({f.Parameters.ToString("N0", inv)} parameters)");
        sb.AppendLine($"- Initial weights: {(f.Init is null ? "random (trained from scratch)" : $"{f.Init} — transfer learning; credit: OSNet (Zhou et al., ICCV 2019), weights from torchreid (MIT licence), trained on MSMT17")}");
        if (f.Distillation is not null)
            sb.AppendLine($"- Learning without forgetting: distillation ({f.Distillation}) — a frozen copy of the teacher sees every augmented batch and the global feature is pulled towards its embedding, to keep what the starting model knew about other cameras");
        if (f.WiseFt is not null)
            sb.AppendLine($"- Exported weights: {f.WiseFt} (WiSE-FT, Wortsman et al. 2022; the figures measured during training below are of the trained weights, before the blend)");
        sb.AppendLine($"- Trained by: `{f.Command}`");
        sb.AppendLine($"- Wall time: {TimeSpan.FromSeconds(f.WallSeconds):hh\\:mm\\:ss} summed over {f.Resumes + 1} process(es) (resumed {f.Resumes} time(s))");
        sb.AppendLine($"- Machine: {f.Cpu.CpuModel}, {f.Cpu.LogicalCpus} logical CPU(s), oneDNN {f.Cpu.OneDnnVersion} ISA {f.Cpu.Isa}, " +
                      $"bf16 {(f.Cpu.Bf16 ? "yes" : "no")}; {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
        sb.AppendLine($"- Arithmetic: {f.PrecisionNote}");
        sb.AppendLine();
        sb.AppendLine("## Data and its terms");
        sb.AppendLine();
        sb.AppendLine($"{f.Data}.");
        sb.AppendLine();
        sb.AppendLine("Market-1501 (Zheng et al., ICCV 2015) and MSMT17 are research data sets with non-commercial terms. " +
                      "This model is for research and evaluation. Commercial users must retrain on data they have the rights to, " +
                      "with `reid train --config <recipe>`.");
        sb.AppendLine();
        sb.AppendLine("## Figures measured during training");
        sb.AppendLine();
        var onSplit = c.Evaluation.On == EvaluationSet.Split;
        var scored = f.Metrics.Any(m => m.Rank1 is not null);
        sb.AppendLine(!scored
            ? "Nothing was scored during training (no evaluation ran: no validation fold and no split evaluation, or an " +
              "interval longer than the run), so the table has loss and accuracy on the augmented training batches only; " +
              "the holdout figures below are measured on the export."
            : onSplit
            ? "Rank-1 and mAP here are on the split's own query/gallery (for holdout-v1: the test set), scored by the training " +
              "engine while it trained, to show the learning curve of a run that trains on every identity. The recipe was not " +
              "chosen by them; the holdout figures below are measured on the export."
            : "Validation figures are on a fold of the *training* identities (identity-disjoint from what was trained on), " +
              "used to choose the recipe. They are not holdout figures.");
        sb.AppendLine();
        // Rank-1/mAP columns only when some epoch has them: a run that scored nothing would show two empty columns.
        var set = onSplit ? "split" : "val";
        sb.AppendLine(scored ? $"| epoch | loss | train accuracy | {set} Rank-1 | {set} mAP | images/s |" : "| epoch | loss | train accuracy | images/s |");
        sb.AppendLine(scored ? "|---|---|---|---|---|---|" : "|---|---|---|---|");
        static string Cell(double? v) => v is { } x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "";
        foreach (var m in f.Metrics)
        {
            var scores = scored ? $" {Cell(m.Rank1)} | {Cell(m.MeanAP)} |" : "";
            sb.AppendLine(string.Create(inv, $"| {m.Epoch} | {m.Loss:0.0000} | {m.Accuracy:0.000} |{scores} {m.ImagesPerSecond:0.0} |"));
        }
        sb.AppendLine();
        sb.AppendLine("## Holdout figures");
        sb.AppendLine();
        sb.AppendLine("Measure them on the exported model (never during training), e.g. for holdout-v1:");
        sb.AppendLine();
        sb.AppendLine($"    ./reid evaluate --model {f.ModelFile} --dataset market1501 --root ../shared/data/market1501/bounding_box_train --split ../shared/data/market1501/splits/holdout-v1");
        sb.AppendLine();
        sb.AppendLine("## Recipe");
        sb.AppendLine();
        if (!string.IsNullOrEmpty(f.RecipePath)) sb.AppendLine($"From `{f.RecipePath}`:");
        sb.AppendLine();
        sb.AppendLine("```yaml");
        sb.AppendLine(f.RecipeText.TrimEnd());
        sb.AppendLine("```");
        AtomicFile.WriteAllText(path, sb.ToString());
        return path;
    }
}
