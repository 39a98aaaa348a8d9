using System.Text.RegularExpressions;

namespace Reid.Architecture.Tests;

/// <summary>
/// The rules docs/ARCHITECTURE.md states, as checks over the source tree that return every violation found
/// (empty = the rule holds). Kept apart from the tests so that the tests can also show each check catches a
/// planted violation.
/// </summary>
public static class ArchitectureRules
{
    /// <summary>
    /// Layers of src/, bottom up: a project may reference only projects of a lower layer. Perception (video)
    /// sits below the identity service (gallery), which the server exposes and the CLI drives.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, int> Layers = new Dictionary<string, int>
    {
        ["Reid.Core"] = 0,
        ["Reid.Imaging"] = 1, ["Reid.Onnx"] = 1, ["Reid.Engine"] = 1,
        ["Reid.Inference"] = 2, ["Reid.Data"] = 2,
        ["Reid.Evaluation"] = 3,
        ["Reid.SpatialTemporal"] = 4,
        ["Reid.Training"] = 5, ["Reid.Video"] = 5,
        ["Reid.Gallery"] = 6,
        ["Reid.Server"] = 7,
        ["Reid.Cli"] = 8,
    };

    private static readonly Regex NativeCode = new(
        @"\bIntPtr\b|\bUIntPtr\b|\bunsafe\b|\bDllImport\b|\bLibraryImport\b|\bMarshal\s*\.|\bNativeMemory\s*\.|delegate\s*\*|\bfixed\s*\(",
        RegexOptions.Compiled);

    /// <summary>Native handles, pointers and P/Invoke outside a Native/ folder ("file:line: code").</summary>
    public static IEnumerable<string> NativeCodeOutsideNative(SourceTree tree) =>
        tree.SourceProjects().SelectMany(tree.CsFiles)
            .Where(f => !f.Contains("/Native/"))
            .SelectMany(f => NativeCodeIn(f, tree.Read(f)));

    public static IEnumerable<string> NativeCodeIn(string file, string source)
    {
        var lines = SourceTree.CodeOnly(source).Split('\n');
        for (var i = 0; i < lines.Length; i++)
            if (NativeCode.IsMatch(lines[i])) yield return $"{file}:{i + 1}: {lines[i].Trim()}";
    }

    /// <summary>References that point sideways or up the layers, and projects missing from the table.</summary>
    public static IEnumerable<string> ReferencesAgainstLayers(SourceTree tree, IReadOnlyDictionary<string, int>? layers = null)
    {
        layers ??= Layers;
        foreach (var project in tree.SourceProjects())
        {
            if (!layers.TryGetValue(project, out var own))
            {
                yield return $"{project} is not in the layer table (ArchitectureRules.Layers, docs/ARCHITECTURE.md)";
                continue;
            }
            foreach (var reference in tree.ProjectReferences(project))
                if (!layers.TryGetValue(reference, out var theirs) || theirs >= own)
                    yield return $"{project} (layer {own}) references {reference} (layer {(layers.TryGetValue(reference, out var t) ? t : -1)})";
        }
    }

    /// <summary>Files of <paramref name="project"/> that use <paramref name="forbidden"/>'s namespace, except the allowed ones.</summary>
    public static IEnumerable<string> UsesOf(SourceTree tree, string project, string forbidden, params string[] allowedFiles) =>
        tree.CsFiles(project)
            .Where(f => !allowedFiles.Any(a => f.EndsWith(a, StringComparison.Ordinal)))
            .Where(f => Regex.IsMatch(SourceTree.CodeOnly(tree.Read(f)), @"\b" + Regex.Escape(forbidden) + @"\b"))
            .Select(f => $"{f} uses {forbidden}");

    /// <summary>Namespace import cycles inside each project (each cycle once, as "A -> B -> A").</summary>
    public static IEnumerable<string> NamespaceCycles(SourceTree tree) =>
        tree.SourceProjects().SelectMany(p => Cycles(NamespaceGraph(tree, p)).Select(c => $"{p}: {c}"));

    public static Dictionary<string, HashSet<string>> NamespaceGraph(SourceTree tree, string project)
    {
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var file in tree.CsFiles(project))
        {
            var code = SourceTree.CodeOnly(tree.Read(file));
            if (SourceTree.NamespaceOf(code) is not { } ns) continue;
            if (!graph.TryGetValue(ns, out var edges)) graph[ns] = edges = new HashSet<string>(StringComparer.Ordinal);
            foreach (var imported in SourceTree.ImportedNamespaces(code))
                if (imported != ns && imported.StartsWith(project + ".", StringComparison.Ordinal) || imported == project)
                    if (imported != ns) edges.Add(imported);
        }
        return graph;
    }

    /// <summary>Elementary cycles found by depth-first search (one per back edge), rotated to start at their smallest name.</summary>
    public static IEnumerable<string> Cycles(IReadOnlyDictionary<string, HashSet<string>> graph)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 = on the stack, 2 = done
        var stack = new List<string>();
        void Visit(string node)
        {
            state[node] = 1;
            stack.Add(node);
            foreach (var next in graph.TryGetValue(node, out var e) ? e.OrderBy(x => x, StringComparer.Ordinal) : Enumerable.Empty<string>())
            {
                if (state.GetValueOrDefault(next) == 1)
                {
                    var cycle = stack.Skip(stack.IndexOf(next)).ToList();
                    var start = cycle.IndexOf(cycle.Min(StringComparer.Ordinal)!);
                    var rotated = cycle.Skip(start).Concat(cycle.Take(start)).ToList();
                    found.Add(string.Join(" -> ", rotated.Append(rotated[0])));
                }
                else if (state.GetValueOrDefault(next) == 0) Visit(next);
            }
            stack.RemoveAt(stack.Count - 1);
            state[node] = 2;
        }
        foreach (var node in graph.Keys.OrderBy(x => x, StringComparer.Ordinal))
            if (state.GetValueOrDefault(node) == 0) Visit(node);
        return found;
    }

    /// <summary>Projects that allow unsafe code without a Native/ folder, and the shared default if it allows it.</summary>
    public static IEnumerable<string> UnsafeOutsideNativeProjects(SourceTree tree)
    {
        var props = System.Xml.Linq.XDocument.Load(Path.Combine(tree.Root, "Directory.Build.props"));
        if (props.Descendants("AllowUnsafeBlocks").Any(e => e.Value.Trim() == "true"))
            yield return "Directory.Build.props allows unsafe code for every project";
        foreach (var project in tree.SourceProjects())
            if (tree.ProjectProperty(project, "AllowUnsafeBlocks") == "true" && !Directory.Exists(Path.Combine(tree.ProjectDir(project), "Native")))
                yield return $"{project} allows unsafe code but has no Native/ folder";
    }

    /// <summary>src projects without a README.md saying what they own.</summary>
    public static IEnumerable<string> ProjectsWithoutReadme(SourceTree tree) =>
        tree.SourceProjects().Where(p => !File.Exists(Path.Combine(tree.ProjectDir(p), "README.md"))).Select(p => $"{p} has no README.md");
}
