using Reid.Core;
using Reid.Core.Config;

namespace Reid.Training.Config;

/// <summary>
/// Reads a recipe (YAML) into <see cref="ExperimentConfig"/> through the project's one <see cref="ConfigBinder"/>:
/// every problem, in binding or in range, is listed at once with its full key (<c>training.optimizer</c>), its
/// line and the allowed values or range. Paths may start with <c>{shared}</c> (the ../shared folder) or
/// <c>{repo}</c> (the repository root); other relative paths are relative to the recipe's folder.
/// </summary>
public static class ExperimentConfigLoader
{
    public static ExperimentConfig Load(string path)
    {
        if (!File.Exists(path)) throw new ReidException($"recipe '{path}' not found");
        var full = Path.GetFullPath(path);
        return Parse(File.ReadAllText(full), full, Path.GetDirectoryName(full)!);
    }

    /// <summary>Parses and validates recipe text; <paramref name="source"/> names it in errors.</summary>
    public static ExperimentConfig Parse(string yaml, string source = "recipe", string? baseDir = null)
    {
        var (config, problems) = ConfigBinder.Bind<ExperimentConfig>(yaml, source);
        config = ResolvePaths(config, baseDir ?? Directory.GetCurrentDirectory());
        ExperimentConfigValidator.Check(config, problems);
        problems.ThrowIfAny();
        return config;
    }

    public static string ResolvePath(string path, string baseDir)
    {
        if (string.IsNullOrWhiteSpace(path)) return path;
        if (path.StartsWith("{shared}", StringComparison.Ordinal))
            path = (ProjectPaths.SharedDir ?? throw new ReidException($"'{path}' needs ../shared beside the repository (or REID_SHARED), which is absent"))
                   + path["{shared}".Length..];
        else if (path.StartsWith("{repo}", StringComparison.Ordinal))
            path = (ProjectPaths.RepoRoot ?? throw new ReidException($"'{path}' needs a repository checkout, which was not found"))
                   + path["{repo}".Length..];
        return Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(baseDir, path));
    }

    private static ExperimentConfig ResolvePaths(ExperimentConfig c, string baseDir) => c with
    {
        Output = ResolvePath(c.Output, baseDir),
        Architecture = c.Architecture.RandomInit ? c.Architecture : c.Architecture with { Init = ResolvePath(c.Architecture.Init, baseDir) },
        Data = c.Data with
        {
            Root = ResolvePath(c.Data.Root, baseDir), Split = ResolvePath(c.Data.Split, baseDir),
            Sources = c.Data.Sources.Select(s => s with { Root = ResolvePath(s.Root, baseDir), Split = ResolvePath(s.Split, baseDir) }).ToArray(),
        },
        Losses = c.Losses.Distillation.TeacherIsInit ? c.Losses
            : c.Losses with { Distillation = c.Losses.Distillation with { Teacher = ResolvePath(c.Losses.Distillation.Teacher, baseDir) } },
    };
}
