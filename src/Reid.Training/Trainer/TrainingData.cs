using Reid.Core;
using Reid.Data;
using Reid.Training.Config;
using Reid.Training.Data;

namespace Reid.Training.Trainer;

/// <summary>
/// The images a run trains and scores itself on. The split's training list is dealt into k identity-disjoint
/// folds, one of which (never trained on) becomes the validation query and gallery: for each identity and
/// camera the first image is a query, the rest gallery (as holdout-v1 was built). The split's own
/// query/gallery are read only when the recipe asks to be scored on them (evaluation.on: split); otherwise
/// they stay untouched for the final `reid evaluate`.
/// </summary>
/// <param name="EvaluationName">What the evaluation figures are of, for curves and the model card.</param>
public sealed record TrainingData(
    IReadOnlyList<ImageRecord> Train,
    IReadOnlyList<int> Labels,
    IReadOnlyList<int> PersonIdOfLabel,
    IReadOnlyList<ImageRecord> EvaluationQuery,
    IReadOnlyList<ImageRecord> EvaluationGallery,
    string EvaluationName,
    string Description)
{
    public int Classes => PersonIdOfLabel.Count;
    public int TrainIdentities => PersonIdOfLabel.Count;
    public int EvaluationIdentities => EvaluationQuery.Concat(EvaluationGallery).Select(r => r.PersonId).Distinct().Count();

    /// <summary>Person ids of extra source s (1-based) are shown as s x this + id, so no two sources share one.</summary>
    public const int SourceIdStride = 1_000_000;

    /// <summary>The labelled images an extra source trains on: its split's training list, or every image of a folder.</summary>
    private static (List<ImageRecord> Images, string Name) SourceImages(SourceConfig source, string key)
    {
        var dataset = DatasetLoader.Load(new DatasetSpec(source.Dataset, source.Root, string.IsNullOrWhiteSpace(source.Split) ? null : source.Split));
        var images = (dataset.Train ?? dataset.Query.Concat(dataset.Gallery).ToList())
            .Where(r => r.PersonId > 0).OrderBy(r => r.Path, StringComparer.Ordinal).ToList();
        if (images.Count == 0) throw new ReidException($"{key}: {source.Root} has no labelled images to train on");
        return (images, dataset.Name);
    }

    /// <summary>
    /// The query and gallery a recipe's run scores itself on, its held-out fold of the training identities:
    /// `reid evaluate --validation-of` chooses inference options (flip, re-ranking) on it, never on the test set.
    /// </summary>
    public static ReidDataset ValidationFold(string recipe)
    {
        var config = ExperimentConfigLoader.Load(recipe);
        var v = config.Data.Validation;
        if (v.Folds == 0)
            throw new ReidException($"{recipe} trains on every identity (data.validation.folds: 0), so it has no validation fold to score on");
        var fold = Load(config.Data);
        return new ReidDataset($"{config.Name}: validation fold {v.Fold + 1}/{v.Folds} of {config.Data.Dataset.ToString().ToLowerInvariant()}", fold.EvaluationQuery, fold.EvaluationGallery);
    }

    public static TrainingData Load(DataConfig d, EvaluationSet on = EvaluationSet.Validation)
    {
        var spec = new DatasetSpec(d.Dataset, d.Root, string.IsNullOrWhiteSpace(d.Split) ? null : d.Split);
        var dataset = DatasetLoader.Load(spec);
        var all = dataset.Train ?? throw new ReidException(
            $"data: {d.Root} has no training list; give data.split (a folder with train.txt)");
        // junk and distractor crops carry no identity to learn
        var records = all.Where(r => r.PersonId > 0).ToList();
        if (records.Count == 0) throw new ReidException($"data: the training list of {d.Root} has no labelled images");

        var ids = records.Select(r => r.PersonId).Distinct().Order().ToList();
        if (d.MaxIdentities > 0 && ids.Count > d.MaxIdentities)
        {
            var keep = ids.Take(d.MaxIdentities).ToHashSet();
            records = records.Where(r => keep.Contains(r.PersonId)).ToList();
            ids = ids.Take(d.MaxIdentities).ToList();
        }

        var v = d.Validation;
        var heldOut = IdentityFolds.HeldOut(ids.Select(i => i.ToString("D6")), v.Folds, v.Fold, v.Seed)
            .Select(int.Parse).ToHashSet();
        var train = records.Where(r => !heldOut.Contains(r.PersonId)).OrderBy(r => r.Path, StringComparer.Ordinal).ToList();
        var validation = records.Where(r => heldOut.Contains(r.PersonId)).OrderBy(r => r.Path, StringComparer.Ordinal).ToList();

        var query = new List<ImageRecord>();
        var gallery = new List<ImageRecord>();
        foreach (var group in validation.GroupBy(r => (r.PersonId, r.Camera)))
        {
            query.Add(group.First());
            gallery.AddRange(group.Skip(1));
        }

        var personIds = train.Select(r => r.PersonId).Distinct().Order().ToList();
        var labelOf = personIds.Select((p, i) => (p, i)).ToDictionary(t => t.p, t => t.i);
        var labels = train.Select(r => labelOf[r.PersonId]).ToList();
        var desc = $"{dataset.Name}: {train.Count} training images of {personIds.Count} identities" +
                   (heldOut.Count > 0 ? $"; validation fold {v.Fold + 1}/{v.Folds}: {heldOut.Count} identities, {query.Count} queries, {gallery.Count} gallery" : "; no validation fold");
        for (var s = 0; s < d.Sources.Length; s++)
        {
            // another source's person 7 is not this one's: its identities get labels of their own, after all before them
            var (images, name) = SourceImages(d.Sources[s], $"data.sources[{s}]");
            var sourceIds = images.Select(r => r.PersonId).Distinct().Order().ToList();
            var first = personIds.Count;
            var offset = (s + 1) * SourceIdStride;
            foreach (var id in sourceIds) { labelOf[offset + id] = personIds.Count; personIds.Add(offset + id); }
            train.AddRange(images);
            labels.AddRange(images.Select(r => labelOf[offset + r.PersonId]));
            desc += $" + {name}: {images.Count} training images of {personIds.Count - first} identities";
        }
        if (on == EvaluationSet.Validation) return new TrainingData(train, labels, personIds, query, gallery, "validation", desc);

        if (dataset.Query.Count == 0 || dataset.Gallery.Count == 0)
            throw new ReidException($"evaluation.on = split: the split {d.Split} has an empty query or gallery list");
        desc += $"; scored during training on the split's own query/gallery ({dataset.Query.Count} queries, {dataset.Gallery.Count} gallery; test data: watched, not tuned on)";
        return new TrainingData(train, labels, personIds, dataset.Query, dataset.Gallery, "split query/gallery", desc);
    }
}
