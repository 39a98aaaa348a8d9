using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Reid.Core;

namespace Reid.Architecture.Tests;

/// <summary>The repository's C# sources and project files, read as text (no build output).</summary>
public sealed class SourceTree
{
    public SourceTree(string root) => Root = root;

    public string Root { get; }

    public static SourceTree Repository() =>
        new(ProjectPaths.RepoRoot ?? throw new InvalidOperationException("the tests run inside the repository, whose root was not found"));

    /// <summary>Every library and program under src/, by project name (e.g. "Reid.Engine").</summary>
    public IReadOnlyList<string> SourceProjects() =>
        Directory.GetDirectories(Path.Combine(Root, "src"))
            .Where(d => File.Exists(Path.Combine(d, Path.GetFileName(d) + ".csproj")))
            .Select(Path.GetFileName).Cast<string>().OrderBy(n => n, StringComparer.Ordinal).ToList();

    public string ProjectDir(string project) => Path.Combine(Root, "src", project);

    /// <summary>The .cs files of a project, relative to the repository root with '/' separators.</summary>
    public IEnumerable<string> CsFiles(string project) =>
        Directory.EnumerateFiles(ProjectDir(project), "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/'))
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/"))
            .OrderBy(f => f, StringComparer.Ordinal);

    public string Read(string relative) => File.ReadAllText(Path.Combine(Root, relative));

    /// <summary>The projects a project file references directly (names without .csproj).</summary>
    public IReadOnlyList<string> ProjectReferences(string project)
    {
        var doc = XDocument.Load(Path.Combine(ProjectDir(project), project + ".csproj"));
        return doc.Descendants("ProjectReference")
            .Select(e => Path.GetFileNameWithoutExtension((string?)e.Attribute("Include") ?? ""))
            .Where(n => n.Length > 0).ToList();
    }

    /// <summary>The value of an MSBuild property in a project file, or null when it does not set it.</summary>
    public string? ProjectProperty(string project, string property) =>
        XDocument.Load(Path.Combine(ProjectDir(project), project + ".csproj"))
            .Descendants(property).Select(e => e.Value.Trim()).LastOrDefault();

    /// <summary>
    /// The code of a C# file with comments, string and character literals blanked out, so that rules about
    /// code are not tripped by documentation that names what it must not use.
    /// </summary>
    public static string CodeOnly(string source)
    {
        var sb = new StringBuilder(source.Length);
        var i = 0;
        while (i < source.Length)
        {
            var c = source[i];
            var next = i + 1 < source.Length ? source[i + 1] : '\0';
            if (c == '/' && next == '/')
            {
                while (i < source.Length && source[i] != '\n') i++;
            }
            else if (c == '/' && next == '*')
            {
                var end = source.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? source.Length : end + 2;
                sb.Append(' ');
            }
            else if (c == '"' && source.AsSpan(i).StartsWith("\"\"\""))
            {
                var end = source.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                i = end < 0 ? source.Length : end + 3;
                sb.Append("\"\"");
            }
            else if (c == '"' || (c == '@' && next == '"') || (c == '$' && next == '"') || (c == '$' && next == '@') || (c == '@' && next == '$'))
            {
                var verbatim = false;
                while (source[i] != '"') { verbatim |= source[i] == '@'; i++; }
                i++;
                while (i < source.Length)
                {
                    if (!verbatim && source[i] == '\\') { i += 2; continue; }
                    if (source[i] == '"')
                    {
                        if (verbatim && i + 1 < source.Length && source[i + 1] == '"') { i += 2; continue; }
                        i++;
                        break;
                    }
                    i++;
                }
                sb.Append("\"\"");
            }
            else if (c == '\'')
            {
                i++;
                while (i < source.Length && source[i] != '\'') i += source[i] == '\\' ? 2 : 1;
                i++;
                sb.Append("' '");
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }

    private static readonly Regex NamespaceLine = new(@"^\s*namespace\s+([A-Za-z0-9_.]+)", RegexOptions.Multiline);
    private static readonly Regex UsingLine = new(@"^\s*(?:global\s+)?using\s+(?:static\s+)?([A-Za-z0-9_.]+)\s*;", RegexOptions.Multiline);
    private static readonly Regex UsingAlias = new(@"^\s*(?:global\s+)?using\s+[A-Za-z0-9_]+\s*=\s*([A-Za-z0-9_.]+?)(?:\.[A-Z][A-Za-z0-9_]*)?\s*;", RegexOptions.Multiline);

    public static string? NamespaceOf(string code) => NamespaceLine.Match(code) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>Namespaces a file imports (using directives and the namespace part of using aliases).</summary>
    public static IEnumerable<string> ImportedNamespaces(string code) =>
        UsingLine.Matches(code).Select(m => m.Groups[1].Value)
            .Concat(UsingAlias.Matches(code).Select(m => m.Groups[1].Value));
}
