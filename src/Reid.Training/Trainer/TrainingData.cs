using Reid.Core;
using Reid.Data;
using Reid.Training.Config;
using Reid.Training.Data;

namespace Reid.Training.Trainer;

/// <summary>
/// The images a run trains and validates on. Only the split's training list is read; its identities are
/// dealt into k identity-disjoint folds, one of which (never trained on) becomes the validation query and
/// gallery: for each identity and camera the first image is a query, the rest gallery (as holdout-v1 was
/// built). The split's own query/gallery stay untouched for the final `reid evaluate`.
/// </summary>
public sealed record TrainingData(
    IReadOnlyList<ImageRecord> Train,
    IReadOnlyList<int> Labels,
    IReadOnlyList<int> PersonIdOfLabel,
    IReadOnlyList<ImageRecord> ValidationQuery,
    IReadOnlyList<ImageRecord> ValidationGallery,
    string Description)
{
    public int Classes => PersonIdOfLabel.Count;
    public int TrainIdentities => PersonIdOfLabel.Count;
    public int ValidationIdentities => ValidationQuery.Concat(ValidationGallery).Select(r => r.PersonId).Distinct().Count();

    public static TrainingData Load(DataConfig d)
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
        return new TrainingData(train, labels, personIds, query, gallery, desc);
    }
}
