using System.Globalization;
using System.Reflection;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Reid.Core.Config;

/// <summary>
/// Binds a YAML config onto typed records, the one way every config file of the project is read. Keys are the
/// snake_case of the property names (<c>embedding_size</c>), enum values the snake_case of the member names
/// (<c>yolo_v8</c>). Binding walks YamlDotNet's node tree itself rather than using its deserializer so that it
/// goes on past a problem: every unknown key, wrong type and disallowed value is listed with its full key path
/// and line, and a key left out keeps the record's default. A camelCase key (the video config's old spelling)
/// is reported with the key that replaced it instead of being ignored.
/// </summary>
public static class ConfigBinder
{
    public sealed record Result<T>(T Value, ConfigProblems Problems);

    /// <summary>
    /// Binds <paramref name="yaml"/>; problems (and the line of every key set) are in the result, for the caller
    /// to add its own range checks to before <see cref="ConfigProblems.ThrowIfAny"/>. Text that is not YAML at all
    /// throws at once, since nothing after the syntax error can be read.
    /// </summary>
    public static Result<T> Bind<T>(string yaml, string source) where T : class, new()
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlException e)
        {
            throw new ReidException($"{source}: not valid YAML at line {e.Start.Line}: {InnerMost(e).Message}");
        }
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        var problems = new ConfigProblems(source, lines);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            return new Result<T>(new T(), problems);
        var binder = new Binding(source, problems, lines);
        var value = binder.Bind(typeof(T), stream.Documents[0].RootNode, "", nullable: false);
        return new Result<T>(value as T ?? new T(), problems);
    }

    /// <summary>snake_case of a property or enum member name: EmbeddingSize → embedding_size, OsnetX0_25 → osnet_x0_25, YoloV8 → yolo_v8.</summary>
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

    /// <summary>The config spelling of an enum value.</summary>
    public static string Name<T>(T value) where T : struct, Enum => SnakeCase(value.ToString());

    /// <summary>The keys a section of type <paramref name="type"/> accepts.</summary>
    public static IEnumerable<string> Keys(Type type) => Properties(type).Select(p => SnakeCase(p.Name));

    private static IEnumerable<PropertyInfo> Properties(Type t) =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite);

    private static Exception InnerMost(Exception e) => e.InnerException is null ? e : InnerMost(e.InnerException);

    private sealed class Binding(string source, ConfigProblems problems, Dictionary<string, int> lines)
    {
        /// <summary>Marks a value that could not be bound (its problem is recorded); the property keeps its default.</summary>
        private static readonly object Failed = new();
        private readonly NullabilityInfoContext _nullability = new();

        private object? Fail(string key, YamlNode node, string what)
        {
            problems.AddLocated($"{(key.Length == 0 ? "top level" : key)} (line {node.Start.Line}): {what}");
            return Failed;
        }

        public object? Bind(Type type, YamlNode node, string key, bool nullable)
        {
            if (Nullable.GetUnderlyingType(type) is { } underlying) (type, nullable) = (underlying, true);
            // An optional setting: empty, "~" or "null" leaves it unset.
            if (nullable && node is YamlScalarNode { Value: null or "" or "~" or "null" }) return null;

            if (type == typeof(string)) return Scalar(node, key, out var s) ? s : Failed;
            if (type == typeof(int))
                return !Scalar(node, key, out var s) ? Failed
                    : int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : Fail(key, node, $"'{s}' is not an integer");
            if (type == typeof(double) || type == typeof(float))
            {
                if (!Scalar(node, key, out var s)) return Failed;
                if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                    return Fail(key, node, $"'{s}' is not a number");
                return type == typeof(float) ? (object)(float)v : v;
            }
            if (type == typeof(bool))
            {
                if (!Scalar(node, key, out var s)) return Failed;
                return s.ToLowerInvariant() switch
                {
                    "true" or "yes" or "on" => true,
                    "false" or "no" or "off" => false,
                    _ => Fail(key, node, $"'{s}' is not true or false"),
                };
            }
            if (type.IsEnum) return Scalar(node, key, out var e) ? Enum(type, e, node, key) : Failed;
            if (type.IsArray && type.GetElementType() is { } element)
            {
                if (node is not YamlSequenceNode items)
                    return Fail(key, node, element == typeof(int) ? "expected a list of integers, e.g. [256, 128]" : "expected a list (- item per line, or [{...}, {...}])");
                var values = items.Children.Select((child, i) => Bind(element, child, $"{key}[{i}]", nullable: false)).ToArray();
                if (values.Contains(Failed)) return Failed;
                var array = Array.CreateInstance(element, values.Length);
                for (var i = 0; i < values.Length; i++) array.SetValue(values[i], i);
                return array;
            }
            if (type.IsClass && type.GetConstructor(Type.EmptyTypes) is { } ctor) return Section(type, ctor, node, key);
            throw new InvalidOperationException($"config binder: no rule for {type.Name} ({key})");
        }

        private object? Section(Type type, ConstructorInfo ctor, YamlNode node, string key)
        {
            if (node is not YamlMappingNode map)
                return Fail(key, node, $"expected a section of keys ({string.Join(", ", Keys(type))})");
            var instance = ctor.Invoke(null);
            foreach (var (k, v) in map.Children)
            {
                var name = ((k as YamlScalarNode)?.Value ?? "").Trim();
                var path = key.Length == 0 ? name : $"{key}.{name}";
                var line = k.Start.Line;
                var prop = Properties(type).FirstOrDefault(p => SnakeCase(p.Name) == name);
                if (prop is null)
                {
                    var renamed = Properties(type).FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
                    problems.AddLocated(renamed is not null
                        ? $"'{path}' (line {line}) is now '{(key.Length == 0 ? "" : key + ".")}{SnakeCase(renamed.Name)}': config keys are snake_case"
                        : $"unknown key '{path}' (line {line}); allowed here: {string.Join(", ", Keys(type))}");
                    continue;
                }
                if (!lines.TryAdd(path, (int)line))
                {
                    problems.AddLocated($"key '{path}' given twice (line {line})");
                    continue;
                }
                var value = Bind(prop.PropertyType, v, path, nullable: _nullability.Create(prop).WriteState == NullabilityState.Nullable);
                if (!ReferenceEquals(value, Failed)) prop.SetValue(instance, value);
            }
            return instance;
        }

        private object? Enum(Type type, string s, YamlNode node, string key)
        {
            var names = System.Enum.GetNames(type);
            foreach (var name in names)
                if (string.Equals(SnakeCase(name), s, StringComparison.OrdinalIgnoreCase)) return System.Enum.Parse(type, name);
            if (names.FirstOrDefault(n => string.Equals(n, s, StringComparison.OrdinalIgnoreCase)) is { } renamed)
                return Fail(key, node, $"'{s}' is now '{SnakeCase(renamed)}': config values are snake_case");
            return Fail(key, node, $"'{s}' is not allowed; use one of {string.Join(", ", names.Select(SnakeCase))}");
        }

        private bool Scalar(YamlNode node, string key, out string value)
        {
            if (node is YamlScalarNode { Value: { Length: > 0 } v }) { value = v; return true; }
            Fail(key, node, "expected a single value");
            value = "";
            return false;
        }
    }
}
