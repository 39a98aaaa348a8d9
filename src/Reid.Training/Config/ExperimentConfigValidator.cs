using Reid.Core.Config;
using Reid.Training.Backbones;

namespace Reid.Training.Config;

/// <summary>
/// Checks a bound recipe for values that would fail later (or silently train nonsense): every problem is
/// listed at once, each naming its key and the allowed range, so a user fixes a recipe in one go.
/// </summary>
public static class ExperimentConfigValidator
{
    /// <summary>Adds every problem of <paramref name="c"/> to <paramref name="p"/>.</summary>
    public static void Check(ExperimentConfig c, ConfigProblems p)
    {

        if (string.IsNullOrWhiteSpace(c.Name)) p.Add("name", "name must not be empty");
        p.Range("seed", c.Seed, 0, int.MaxValue);
        if (string.IsNullOrWhiteSpace(c.Output)) p.Add("output", "output must name the run folder");

        var a = c.Architecture;
        if (!BackboneRegistry.IsKnown(a.Backbone)) p.Add("architecture.backbone", $"architecture.backbone: {BackboneRegistry.Unknown(a.Backbone)}");
        p.Range("architecture.embedding_size", a.EmbeddingSize, 16, 4096);
        p.Range("architecture.dropout", a.Dropout, 0, 1, hiOpen: true);
        p.Range("architecture.gem_p", a.GemP, 1, 10);
        p.Range("architecture.init_calibration_images", a.InitCalibrationImages, 0, 100_000);
        p.Range("architecture.parts.stripes", a.Parts.Stripes, 0, 8);
        p.Range("architecture.parts.embedding_size", a.Parts.EmbeddingSize, 16, 4096);
        p.Range("architecture.parts.loss_weight", a.Parts.LossWeight, 0, 100);
        if (!a.RandomInit)
        {
            if (!a.Init.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                p.Add("architecture.init", $"architecture.init = '{a.Init}': use 'random' or the path of an .onnx model");
            else if (!File.Exists(a.Init))
                p.Add("architecture.init", $"architecture.init: model file '{a.Init}' not found");
        }

        var d = c.Data;
        if (string.IsNullOrWhiteSpace(d.Root)) p.Add("data.root", "data.root must name the data set folder");
        else if (!Directory.Exists(d.Root)) p.Add("data.root", $"data.root: folder '{d.Root}' not found");
        if (!string.IsNullOrWhiteSpace(d.Split) && !File.Exists(Path.Combine(d.Split, "train.txt"))) p.Add("data.split", $"data.split: '{Path.Combine(d.Split, "train.txt")}' not found");
        if (d.ImageSize.Length != 2) p.Add("data.image_size", $"data.image_size must be [height, width], got {d.ImageSize.Length} values");
        else
        {
            p.Range("data.image_size[0] (height)", d.ImageSize[0], 32, 1024);
            p.Range("data.image_size[1] (width)", d.ImageSize[1], 16, 1024);
        }
        p.Range("data.max_identities", d.MaxIdentities, 0, int.MaxValue);
        for (var i = 0; i < d.Sources.Length; i++)
        {
            var src = d.Sources[i];
            if (string.IsNullOrWhiteSpace(src.Root)) p.Add($"data.sources[{i}].root", $"data.sources[{i}].root must name the data set folder");
            else if (!Directory.Exists(src.Root) && !File.Exists(src.Root)) p.Add($"data.sources[{i}].root", $"data.sources[{i}].root: '{src.Root}' not found");
            if (!string.IsNullOrWhiteSpace(src.Split) && !File.Exists(Path.Combine(src.Split, "train.txt"))) p.Add($"data.sources[{i}].split", $"data.sources[{i}].split: '{Path.Combine(src.Split, "train.txt")}' not found");
        }
        p.Range("data.workers", d.Workers, 1, 64);
        p.Range("data.queue_batches", d.QueueBatches, 1, 256);
        var v = d.Validation;
        if (v.Folds == 1) p.Add("data.validation.folds", "data.validation.folds = 1 would hold out every identity; use 0 (no validation) or at least 2");
        p.Range("data.validation.folds", v.Folds, 0, 100);
        if (v.Folds >= 2) p.Range("data.validation.fold", v.Fold, 0, v.Folds - 1);

        var g = c.Augmentation;
        p.Range("augmentation.flip", g.Flip, 0, 1);
        if (d.ImageSize.Length == 2) p.Range("augmentation.pad", g.Pad, 0, Math.Min(d.ImageSize[0], d.ImageSize[1]) / 2);
        p.Range("augmentation.random_erasing.probability", g.RandomErasing.Probability, 0, 1);
        p.Range("augmentation.random_erasing.min_area", g.RandomErasing.MinArea, 0, 1, loOpen: true, hiOpen: true);
        p.Range("augmentation.random_erasing.max_area", g.RandomErasing.MaxArea, g.RandomErasing.MinArea, 1, hiOpen: true);
        p.Range("augmentation.random_erasing.min_aspect", g.RandomErasing.MinAspect, 0, 1, loOpen: true);
        p.Range("augmentation.color_jitter.probability", g.ColorJitter.Probability, 0, 1);
        p.Range("augmentation.color_jitter.brightness", g.ColorJitter.Brightness, 0, 1);
        p.Range("augmentation.color_jitter.contrast", g.ColorJitter.Contrast, 0, 1);
        p.Range("augmentation.color_jitter.saturation", g.ColorJitter.Saturation, 0, 1);
        p.Range("augmentation.color_jitter.hue", g.ColorJitter.Hue, 0, 0.5);

        var t = c.Training;
        p.Range("training.identities_per_batch", t.IdentitiesPerBatch, 1, 4096);
        p.Range("training.images_per_identity", t.ImagesPerIdentity, 1, 256);
        if (c.Losses.Triplet.Weight > 0 && t.IdentitiesPerBatch < 2)
            p.Add("training.identities_per_batch", "training.identities_per_batch must be at least 2 when losses.triplet is on (a triplet needs a negative)");
        if (c.Losses.Triplet.Weight > 0 && t.ImagesPerIdentity < 2)
            p.Add("training.images_per_identity", "training.images_per_identity must be at least 2 when losses.triplet is on (a triplet needs a positive)");
        p.Range("training.epochs", t.Epochs, 1, 10000);
        p.Range("training.batches_per_epoch", t.BatchesPerEpoch, 0, 1_000_000);
        p.Range("training.learning_rate", t.LearningRate, 0, 10, loOpen: true);
        p.Range("training.momentum", t.Momentum, 0, 1, hiOpen: true);
        p.Range("training.weight_decay", t.WeightDecay, 0, 1);
        p.Range("training.backbone_lr_factor", t.BackboneLrFactor, 0, 10);
        p.Range("training.freeze_backbone_epochs", t.FreezeBackboneEpochs, 0, t.Epochs - 1);
        p.Range("training.accumulation", t.Accumulation, 1, 1024);
        p.Range("training.clip_grad_norm", t.ClipGradNorm, 0, 1e6);
        var s = t.Schedule;
        p.Range("training.schedule.warmup_epochs", s.WarmupEpochs, 0, Math.Max(0, t.Epochs - 1));
        p.Range("training.schedule.warmup_factor", s.WarmupFactor, 0, 1, loOpen: true);
        p.Range("training.schedule.gamma", s.Gamma, 0, 1, loOpen: true);
        p.Range("training.schedule.min_factor", s.MinFactor, 0, 1);
        if (s.Kind == ScheduleKind.Step)
        {
            if (s.Milestones.Length == 0) p.Add("training.schedule.milestones", "training.schedule.milestones must list at least one epoch when kind = step");
            for (var i = 0; i < s.Milestones.Length; i++)
            {
                if (s.Milestones[i] < 1 || s.Milestones[i] >= t.Epochs)
                    p.Add($"training.schedule.milestones[{i}]", $"training.schedule.milestones[{i}] = {s.Milestones[i]} must lie in [1, {t.Epochs - 1}] (training.epochs = {t.Epochs})");
                if (i > 0 && s.Milestones[i] <= s.Milestones[i - 1])
                    p.Add("training.schedule.milestones", "training.schedule.milestones must be increasing");
            }
        }

        var l = c.Losses;
        p.Range("losses.cross_entropy.weight", l.CrossEntropy.Weight, 0, 1000);
        p.Range("losses.cross_entropy.label_smoothing", l.CrossEntropy.LabelSmoothing, 0, 1, hiOpen: true);
        p.Range("losses.triplet.weight", l.Triplet.Weight, 0, 1000);
        p.Range("losses.triplet.margin", l.Triplet.Margin, 0, 10);
        p.Range("losses.arcface.weight", l.Arcface.Weight, 0, 1000);
        p.Range("losses.arcface.margin", l.Arcface.Margin, 0, Math.PI / 2, hiOpen: true);
        p.Range("losses.arcface.scale", l.Arcface.Scale, 0, 1000, loOpen: true);
        p.Range("losses.center.weight", l.Center.Weight, 0, 1000);
        p.Range("losses.center.center_lr", l.Center.CenterLr, 0, 1, loOpen: true);
        var kd = l.Distillation;
        p.Range("losses.distillation.weight", kd.Weight, 0, 1000);
        if (kd.Weight > 0)
        {
            if (kd.TeacherIsInit && a.RandomInit)
                p.Add("losses.distillation.teacher", "losses.distillation.teacher = init needs architecture.init to name an ONNX model (there is nothing to distil from a random start)");
            else if (!kd.TeacherIsInit && !File.Exists(kd.Teacher))
                p.Add("losses.distillation.teacher", $"losses.distillation.teacher: model file '{kd.Teacher}' not found");
        }
        if (l.CrossEntropy.Weight == 0 && l.Triplet.Weight == 0 && l.Arcface.Weight == 0 && l.Center.Weight == 0)
            p.Add("losses", "losses: every weight is 0; give cross_entropy, triplet, arcface or center a weight above 0");
        else if (l.CrossEntropy.Weight == 0 && l.Triplet.Weight == 0 && l.Arcface.Weight == 0)
            p.Add("losses", "losses: center loss alone collapses the embedding; combine it with cross_entropy, triplet or arcface");

        p.Range("evaluation.every", c.Evaluation.Every, 0, 10000);
        p.Range("evaluation.batch_size", c.Evaluation.BatchSize, 1, 4096);
        if (c.Evaluation.On == EvaluationSet.Split)
        {
            if (string.IsNullOrWhiteSpace(d.Split)) p.Add("evaluation.on", "evaluation.on = split needs data.split (a folder with query.txt and gallery.txt)");
            else foreach (var list in new[] { "query.txt", "gallery.txt" })
                if (!File.Exists(Path.Combine(d.Split, list))) p.Add("evaluation.on", $"evaluation.on = split: '{Path.Combine(d.Split, list)}' not found");
        }
        p.Range("export.wise_ft", c.Export.WiseFt, 0, 1);
        if (c.Export.WiseFt < 1 && a.RandomInit)
            p.Add("export.wise_ft", "export.wise_ft below 1 interpolates towards architecture.init, which is random here; use 1 or name an ONNX init");
        p.Range("export.bn_refresh_images", c.Export.BnRefreshImages, 0, 100_000);
        p.Range("checkpoint.every_minutes", c.Checkpoint.EveryMinutes, 0, 1440, loOpen: true);
    }
}
