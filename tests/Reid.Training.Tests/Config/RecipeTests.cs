using Reid.Core;
using Reid.TestSupport;
using Reid.Training.Config;

namespace Reid.Training.Tests.Config;

public sealed class RecipeTests
{
    /// <summary>Every shipped recipe loads and validates (paths under ../shared exist, values in range).</summary>
    [SharedTheory]
    [InlineData("train_smoke.yaml")]
    [InlineData("osnet_x0_25_scratch.yaml")]
    [InlineData("osnet_x0_25_finetune.yaml")]
    public void Shipped_recipes_are_valid(string file)
    {
        var c = ExperimentConfigLoader.Load(Path.Combine(ProjectPaths.RepoRoot!, "configs", file));
        Assert.True(c.Data.Validation.Folds >= 2); // recipes choose on a validation fold, never on holdout-v1
        if (file.Contains("finetune")) Assert.EndsWith("osnet_x0_25_msmt17.onnx", c.Architecture.Init);
        if (file.Contains("scratch")) Assert.True(c.Architecture.RandomInit);
    }
}
