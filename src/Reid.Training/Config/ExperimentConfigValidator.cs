using Reid.Core;

namespace Reid.Training.Config;

/// <summary>
/// Checks a bound recipe for values that would fail later (or silently train nonsense): every problem is
/// listed at once, each naming its key and the allowed range, so a user fixes a recipe in one go.
/// </summary>
public static class ExperimentConfigValidator
{
    public static IReadOnlyList<string> Problems(ExperimentConfig c)
    {
        var p = new List<string>();
        void Range(string key, double v, double lo, double hi, bool loOpen = false, bool hiOpen = false)
        {
            var ok = (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
            if (!ok) p.Add($"{key} = {v} is out of range; allowed {(loOpen ? "(" : "[")}{lo}, {hi}{(hiOpen ? ")" : "]")}");
        }

        if (string.IsNullOrWhiteSpace(c.Name)) p.Add("name must not be empty");
        Range("seed", c.Seed, 0, int.MaxValue);
        if (string.IsNullOrWhiteSpace(c.Output)) p.Add("output must name the run folder");

        var a = c.Architecture;
        Range("architecture.embedding_size", a.EmbeddingSize, 16, 4096);
        Range("architecture.dropout", a.Dropout, 0, 1, hiOpen: true);
        Range("architecture.gem_p", a.GemP, 1, 10);
        Range("architecture.init_calibration_images", a.InitCalibrationImages, 0, 100_000);
        Range("architecture.parts.stripes", a.Parts.Stripes, 0, 8);
        Range("architecture.parts.embedding_size", a.Parts.EmbeddingSize, 16, 4096);
        Range("architecture.parts.loss_weight", a.Parts.LossWeight, 0, 100);
        if (!a.RandomInit)
        {
            if (!a.Init.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                p.Add($"architecture.init = '{a.Init}': use 'random' or the path of an .onnx model");
            else if (!File.Exists(a.Init))
                p.Add($"architecture.init: model file '{a.Init}' not found");
        }

        var d = c.Data;
        if (string.IsNullOrWhiteSpace(d.Root)) p.Add("data.root must name the data set folder");
        else if (!Directory.Exists(d.Root)) p.Add($"data.root: folder '{d.Root}' not found");
        if (!string.IsNullOrWhiteSpace(d.Split) && !File.Exists(Path.Combine(d.Split, "train.txt"))) p.Add($"data.split: '{Path.Combine(d.Split, "train.txt")}' not found");
        if (d.ImageSize.Length != 2) p.Add($"data.image_size must be [height, width], got {d.ImageSize.Length} values");
        else
        {
            Range("data.image_size[0] (height)", d.ImageSize[0], 32, 1024);
            Range("data.image_size[1] (width)", d.ImageSize[1], 16, 1024);
        }
        Range("data.max_identities", d.MaxIdentities, 0, int.MaxValue);
        for (var i = 0; i < d.Sources.Length; i++)
        {
            var src = d.Sources[i];
            if (string.IsNullOrWhiteSpace(src.Root)) p.Add($"data.sources[{i}].root must name the data set folder");
            else if (!Directory.Exists(src.Root) && !File.Exists(src.Root)) p.Add($"data.sources[{i}].root: '{src.Root}' not found");
            if (!string.IsNullOrWhiteSpace(src.Split) && !File.Exists(Path.Combine(src.Split, "train.txt"))) p.Add($"data.sources[{i}].split: '{Path.Combine(src.Split, "train.txt")}' not found");
        }
        Range("data.workers", d.Workers, 1, 64);
        Range("data.queue_batches", d.QueueBatches, 1, 256);
        var v = d.Validation;
        if (v.Folds == 1) p.Add("data.validation.folds = 1 would hold out every identity; use 0 (no validation) or at least 2");
        Range("data.validation.folds", v.Folds, 0, 100);
        if (v.Folds >= 2) Range("data.validation.fold", v.Fold, 0, v.Folds - 1);

        var g = c.Augmentation;
        Range("augmentation.flip", g.Flip, 0, 1);
        if (d.ImageSize.Length == 2) Range("augmentation.pad", g.Pad, 0, Math.Min(d.ImageSize[0], d.ImageSize[1]) / 2);
        Range("augmentation.random_erasing.probability", g.RandomErasing.Probability, 0, 1);
        Range("augmentation.random_erasing.min_area", g.RandomErasing.MinArea, 0, 1, loOpen: true, hiOpen: true);
        Range("augmentation.random_erasing.max_area", g.RandomErasing.MaxArea, g.RandomErasing.MinArea, 1, hiOpen: true);
        Range("augmentation.random_erasing.min_aspect", g.RandomErasing.MinAspect, 0, 1, loOpen: true);
        Range("augmentation.color_jitter.probability", g.ColorJitter.Probability, 0, 1);
        Range("augmentation.color_jitter.brightness", g.ColorJitter.Brightness, 0, 1);
        Range("augmentation.color_jitter.contrast", g.ColorJitter.Contrast, 0, 1);
        Range("augmentation.color_jitter.saturation", g.ColorJitter.Saturation, 0, 1);
        Range("augmentation.color_jitter.hue", g.ColorJitter.Hue, 0, 0.5);

        var t = c.Training;
        Range("training.identities_per_batch", t.IdentitiesPerBatch, 1, 4096);
        Range("training.images_per_identity", t.ImagesPerIdentity, 1, 256);
        if (c.Losses.Triplet.Weight > 0 && t.IdentitiesPerBatch < 2)
            p.Add("training.identities_per_batch must be at least 2 when losses.triplet is on (a triplet needs a negative)");
        if (c.Losses.Triplet.Weight > 0 && t.ImagesPerIdentity < 2)
            p.Add("training.images_per_identity must be at least 2 when losses.triplet is on (a triplet needs a positive)");
        Range("training.epochs", t.Epochs, 1, 10000);
        Range("training.batches_per_epoch", t.BatchesPerEpoch, 0, 1_000_000);
        Range("training.learning_rate", t.LearningRate, 0, 10, loOpen: true);
        Range("training.momentum", t.Momentum, 0, 1, hiOpen: true);
        Range("training.weight_decay", t.WeightDecay, 0, 1);
        Range("training.backbone_lr_factor", t.BackboneLrFactor, 0, 10);
        Range("training.freeze_backbone_epochs", t.FreezeBackboneEpochs, 0, t.Epochs - 1);
        Range("training.accumulation", t.Accumulation, 1, 1024);
        Range("training.clip_grad_norm", t.ClipGradNorm, 0, 1e6);
        var s = t.Schedule;
        Range("training.schedule.warmup_epochs", s.WarmupEpochs, 0, Math.Max(0, t.Epochs - 1));
        Range("training.schedule.warmup_factor", s.WarmupFactor, 0, 1, loOpen: true);
        Range("training.schedule.gamma", s.Gamma, 0, 1, loOpen: true);
        Range("training.schedule.min_factor", s.MinFactor, 0, 1);
        if (s.Kind == ScheduleKind.Step)
        {
            if (s.Milestones.Length == 0) p.Add("training.schedule.milestones must list at least one epoch when kind = step");
            for (var i = 0; i < s.Milestones.Length; i++)
            {
                if (s.Milestones[i] < 1 || s.Milestones[i] >= t.Epochs)
                    p.Add($"training.schedule.milestones[{i}] = {s.Milestones[i]} must lie in [1, {t.Epochs - 1}] (training.epochs = {t.Epochs})");
                if (i > 0 && s.Milestones[i] <= s.Milestones[i - 1])
                    p.Add("training.schedule.milestones must be increasing");
            }
        }

        var l = c.Losses;
        Range("losses.cross_entropy.weight", l.CrossEntropy.Weight, 0, 1000);
        Range("losses.cross_entropy.label_smoothing", l.CrossEntropy.LabelSmoothing, 0, 1, hiOpen: true);
        Range("losses.triplet.weight", l.Triplet.Weight, 0, 1000);
        Range("losses.triplet.margin", l.Triplet.Margin, 0, 10);
        Range("losses.arcface.weight", l.Arcface.Weight, 0, 1000);
        Range("losses.arcface.margin", l.Arcface.Margin, 0, Math.PI / 2, hiOpen: true);
        Range("losses.arcface.scale", l.Arcface.Scale, 0, 1000, loOpen: true);
        Range("losses.center.weight", l.Center.Weight, 0, 1000);
        Range("losses.center.center_lr", l.Center.CenterLr, 0, 1, loOpen: true);
        var kd = l.Distillation;
        Range("losses.distillation.weight", kd.Weight, 0, 1000);
        if (kd.Weight > 0)
        {
            if (kd.TeacherIsInit && a.RandomInit)
                p.Add("losses.distillation.teacher = init needs architecture.init to name an ONNX model (there is nothing to distil from a random start)");
            else if (!kd.TeacherIsInit && !File.Exists(kd.Teacher))
                p.Add($"losses.distillation.teacher: model file '{kd.Teacher}' not found");
        }
        if (l.CrossEntropy.Weight == 0 && l.Triplet.Weight == 0 && l.Arcface.Weight == 0 && l.Center.Weight == 0)
            p.Add("losses: every weight is 0; give cross_entropy, triplet, arcface or center a weight above 0");
        else if (l.CrossEntropy.Weight == 0 && l.Triplet.Weight == 0 && l.Arcface.Weight == 0)
            p.Add("losses: center loss alone collapses the embedding; combine it with cross_entropy, triplet or arcface");

        Range("evaluation.every", c.Evaluation.Every, 0, 10000);
        Range("evaluation.batch_size", c.Evaluation.BatchSize, 1, 4096);
        if (c.Evaluation.On == EvaluationSet.Split)
        {
            if (string.IsNullOrWhiteSpace(d.Split)) p.Add("evaluation.on = split needs data.split (a folder with query.txt and gallery.txt)");
            else foreach (var list in new[] { "query.txt", "gallery.txt" })
                if (!File.Exists(Path.Combine(d.Split, list))) p.Add($"evaluation.on = split: '{Path.Combine(d.Split, list)}' not found");
        }
        Range("export.wise_ft", c.Export.WiseFt, 0, 1);
        if (c.Export.WiseFt < 1 && a.RandomInit)
            p.Add("export.wise_ft below 1 interpolates towards architecture.init, which is random here; use 1 or name an ONNX init");
        Range("export.bn_refresh_images", c.Export.BnRefreshImages, 0, 100_000);
        Range("checkpoint.every_minutes", c.Checkpoint.EveryMinutes, 0, 1440, loOpen: true);
        return p;
    }

    public static void ThrowIfInvalid(ExperimentConfig c, string source)
    {
        var problems = Problems(c);
        if (problems.Count > 0) throw new ReidException($"{source}: {string.Join("; ", problems)}");
    }
}
