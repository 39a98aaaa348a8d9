namespace Reid.Training.Data;

/// <summary>
/// Identity k-fold: the training identities shuffled (seeded) and dealt into k folds; one fold is held
/// out for validation, the images of the others are trained on. Folds never share an identity, so the
/// validation score measures what ReID needs: recognising people the model never trained on.
/// </summary>
public static class IdentityFolds
{
    /// <returns>the person ids held out (validation) for <paramref name="fold"/>; empty when folds is 0.</returns>
    public static IReadOnlySet<string> HeldOut(IEnumerable<string> personIds, int folds, int fold, int seed)
    {
        if (folds == 0) return new HashSet<string>();
        if (folds < 2 || fold < 0 || fold >= folds) throw new ArgumentOutOfRangeException(nameof(fold), $"fold {fold} of {folds}");
        var ids = personIds.Distinct().Order(StringComparer.Ordinal).ToArray();
        new Random(seed).Shuffle(ids);
        return ids.Where((_, i) => i % folds == fold).ToHashSet();
    }
}
