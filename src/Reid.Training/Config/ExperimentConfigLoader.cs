using System.Globalization;
using System.Reflection;
using System.Text;
using Reid.Core;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Reid.Training.Config;

/// <summary>
/// Reads a recipe (YAML) into <see cref="ExperimentConfig"/>. Binding walks YamlDotNet's node tree itself
/// rather than using its deserializer so every error names the full key (<c>training.optimizer</c>), the
/// line, and the allowed values or range. Paths may start with <c>{shared}</c> (the ../shared folder) or
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
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlException e)
        {
            throw new ReidException($"{source}: not valid YAML at line {e.Start.Line}: {InnerMost(e).Message}");
        }
        ExperimentConfig config;
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            config = new ExperimentConfig();
        else
            config = (ExperimentConfig)Bind(typeof(ExperimentConfig), stream.Documents[0].RootNode, "", source);
        config = ResolvePaths(config, baseDir ?? Directory.GetCurrentDirectory());
        ExperimentConfigValidator.ThrowIfInvalid(config, source);
        return config;
    }

    /// <summary>snake_case of a property or enum member name: EmbeddingSize → embedding_size, OsnetX0_25 → osnet_x0_25.</summary>
    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]))) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    public static string Name<T>(T value) where T : struct, Enum => SnakeCase(value.ToString());

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

    private static object Bind(Type type, YamlNode node, string key, string source)
    {
        string Where() => $"{source}: {(key.Length == 0 ? "top level" : key)} (line {node.Start.Line})";

        if (type == typeof(string)) return Scalar(node, Where);
        if (type == typeof(int))
        {
            var s = Scalar(node, Where);
            return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
                ? v : throw new ReidException($"{Where()}: '{s}' is not an integer");
        }
        if (type == typeof(double))
        {
            var s = Scalar(node, Where);
            return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
                ? v : throw new ReidException($"{Where()}: '{s}' is not a number");
        }
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            // An optional setting: "null" or "~" keeps it unset, anything else binds as the underlying type.
            if (node is YamlScalarNode { Value: null or "" or "~" or "null" }) return null;
            return Bind(underlying, node, key, source);
        }
        if (type == typeof(bool))
        {
            var s = Scalar(node, Where).ToLowerInvariant();
            return s switch
            {
                "true" or "yes" or "on" => true,
                "false" or "no" or "off" => false,
                _ => throw new ReidException($"{Where()}: '{s}' is not true or false"),
            };
        }
        if (type.IsEnum)
        {
            var s = Scalar(node, Where);
            foreach (var name in Enum.GetNames(type))
                if (string.Equals(SnakeCase(name), s, StringComparison.OrdinalIgnoreCase)) return Enum.Parse(type, name);
            var allowed = string.Join(", ", Enum.GetNames(type).Select(SnakeCase));
            throw new ReidException($"{Where()}: '{s}' is not allowed; use one of {allowed}");
        }
        if (type.IsArray && type.GetElementType() is { IsClass: true } element && element != typeof(string))
        {
            if (node is not YamlSequenceNode items) throw new ReidException($"{Where()}: expected a list (- item per line, or [{{...}}, {{...}}])");
            var values = items.Children.Select((child, i) => Bind(element, child, $"{key}[{i}]", source)).ToArray();
            var array = Array.CreateInstance(element, values.Length);
            for (var i = 0; i < values.Length; i++) array.SetValue(values[i], i);
            return array;
        }
        if (type == typeof(int[]))
        {
            if (node is not YamlSequenceNode seq) throw new ReidException($"{Where()}: expected a list of integers, e.g. [256, 128]");
            return seq.Children.Select((child, i) => (int)Bind(typeof(int), child, $"{key}[{i}]", source)).ToArray();
        }
        if (type.IsClass && type.GetConstructor(Type.EmptyTypes) is { } ctor)
        {
            if (node is not YamlMappingNode map)
                throw new ReidException($"{Where()}: expected a section of keys ({string.Join(", ", Keys(type))})");
            var instance = ctor.Invoke(null);
            var seen = new HashSet<string>();
            foreach (var (k, v) in map.Children)
            {
                var name = ((k as YamlScalarNode)?.Value ?? "").Trim();
                var path = key.Length == 0 ? name : $"{key}.{name}";
                var prop = Properties(type).FirstOrDefault(p => SnakeCase(p.Name) == name);
                if (prop is null)
                    throw new ReidException($"{source}: unknown key '{path}' (line {k.Start.Line}); allowed here: {string.Join(", ", Keys(type))}");
                if (!seen.Add(name)) throw new ReidException($"{source}: key '{path}' given twice (line {k.Start.Line})");
                prop.SetValue(instance, Bind(prop.PropertyType, v, path, source));
            }
            return instance;
        }
        throw new InvalidOperationException($"config binder: no rule for {type.Name}");
    }

    private static IEnumerable<PropertyInfo> Properties(Type t) =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite);

    private static IEnumerable<string> Keys(Type t) => Properties(t).Select(p => SnakeCase(p.Name));

    private static string Scalar(YamlNode node, Func<string> where) =>
        node is YamlScalarNode { Value: { } v } && v.Length > 0 ? v : throw new ReidException($"{where()}: expected a single value");

    private static Exception InnerMost(Exception e) => e.InnerException is null ? e : InnerMost(e.InnerException);
}
