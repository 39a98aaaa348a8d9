namespace Reid.Core;

/// <summary>
/// Where the project's own files live at run time: the repository root (found by walking up from the
/// running assembly to the folder holding Reid.slnx), its models folder, and ../shared beside the
/// repository (development data; absent on a user's clone).
/// </summary>
public static class ProjectPaths
{
    private static readonly Lazy<string?> RootLazy = new(FindRoot);

    /// <summary>The repository root, or null when running outside a checkout.</summary>
    public static string? RepoRoot => RootLazy.Value;

    /// <summary>../shared beside the repository, or null when absent. REID_SHARED overrides.</summary>
    public static string? SharedDir
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("REID_SHARED");
            if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? Path.GetFullPath(env) : null;
            if (RepoRoot is null) return null;
            var dir = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
            return Directory.Exists(dir) ? dir : null;
        }
    }

    /// <summary>The project's committed models folder (the shipped default ReID model lives here).</summary>
    public static string? ModelsDir => RepoRoot is null ? null : Path.Combine(RepoRoot, "models");

    private static string? FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("REID_ROOT");
        if (!string.IsNullOrEmpty(env) && File.Exists(Path.Combine(env, "Reid.slnx"))) return Path.GetFullPath(env);
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Reid.slnx"))) return dir.FullName;
        }
        return null;
    }
}
