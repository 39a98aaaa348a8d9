using Reid.Core;
using Reid.Core.Config;
using Reid.TestSupport;
using Reid.Training.Config;

namespace Reid.Training.Tests.Config;

public sealed class RecipeTests
{
    /// <summary>Every shipped recipe loads and validates (paths under ../shared exist, values in range).</summary>
    [SharedTheory]
    [InlineData("train_smoke.yaml")]
    [InlineData("osnet_x0_25_finetune.yaml")]
    public void Shipped_recipes_are_valid(string file)
    {
        var c = ExperimentConfigLoader.Load(Path.Combine(ProjectPaths.RepoRoot!, "configs", file));
        Assert.True(c.Data.Validation.Folds >= 2); // recipes choose on a validation fold, never on holdout-v1
        if (file.Contains("finetune")) Assert.EndsWith("osnet_x0_25_msmt17.onnx", c.Architecture.Init);
    }

    /// <summary>
    /// The from-scratch recipe is a final one, like the shipped model's: chosen on validation folds beforehand
    /// (docs/BENCHMARKS.md), it trains on every identity and only draws the holdout curve (labelled as test data).
    /// </summary>
    [SharedFact]
    public void The_from_scratch_recipe_is_valid_and_trains_on_every_identity_from_random_weights()
    {
        var c = ExperimentConfigLoader.Load(Path.Combine(ProjectPaths.RepoRoot!, "configs", "osnet_x0_25_scratch.yaml"));
        Assert.True(c.Architecture.RandomInit);
        Assert.Equal(0, c.Data.Validation.Folds);
    }

    [SharedFact]
    public void The_shipped_models_recipe_is_valid_keeps_a_validation_fold_and_exports_a_wise_ft_blend_of_the_msmt17_weights()
    {
        var c = ExperimentConfigLoader.Load(Path.Combine(ProjectPaths.RepoRoot!, "configs", "reid_default.yaml"));
        // the fold is where the model's decision threshold is read off: it must stay out of training
        Assert.Equal(5, c.Data.Validation.Folds);
        Assert.EndsWith("osnet_x0_25_msmt17.onnx", c.Architecture.Init);
        Assert.Equal(0.8, c.Export.WiseFt);
        Assert.Empty(c.Data.Sources);   // CUHK03 stays a domain the default has never seen
    }

    /// <summary>configs/README.md lists every recipe key the loader binds, and no key that does not exist.</summary>
    [Fact]
    public void The_recipe_reference_lists_exactly_the_keys_the_loader_binds()
    {
        var readme = File.ReadAllText(Path.Combine(ProjectPaths.RepoRoot!, "configs", "README.md"));
        readme = readme[readme.IndexOf("## Keys", StringComparison.Ordinal)..];
        var keys = Keys(typeof(ExperimentConfig), "").ToList();
        Assert.Contains("training.schedule.warmup_epochs", keys);
        Assert.All(keys, k => Assert.Contains($"| `{k}` |", readme));
        var documented = System.Text.RegularExpressions.Regex.Matches(readme, @"^\| `([a-z0-9_.]+)` \|", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToList();
        Assert.Empty(documented.Except(keys));
    }

    private static IEnumerable<string> Keys(Type type, string prefix)
    {
        foreach (var p in type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance).Where(p => p.CanWrite))
        {
            if (p.Name == "EqualityContract") continue;
            var key = prefix + ConfigBinder.SnakeCase(p.Name);
            if (p.PropertyType.IsClass && p.PropertyType != typeof(string) && !p.PropertyType.IsArray)
                foreach (var k in Keys(p.PropertyType, key + ".")) yield return k;
            else yield return key;
        }
    }
}
