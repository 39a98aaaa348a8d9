using System.Text.Json;
using System.Text.Json.Serialization;

namespace Reid.Core;

/// <summary>
/// The one JSON naming policy of everything reid writes for users — CLI <c>--json</c> answers, HTTP API answers,
/// model and track files: snake_case property names. Non-finite numbers are written as "NaN"/"Infinity" rather
/// than failing a whole answer over one undefined metric.
/// </summary>
public static class ReidJson
{
    /// <summary>Indented, for files and answers people read.</summary>
    public static readonly JsonSerializerOptions Options = Create(indented: true);

    /// <summary>One line per document, for JSON Lines and files written in bulk.</summary>
    public static readonly JsonSerializerOptions Compact = Create(indented: false);

    /// <summary>Compact, leaving out null properties: large machine-read files (tracks, embedding sidecars).</summary>
    public static readonly JsonSerializerOptions CompactWithoutNulls = Create(indented: false, JsonIgnoreCondition.WhenWritingNull);

    /// <summary>Applies the policy to options someone else owns (ASP.NET Core's HTTP JSON options).</summary>
    public static void Apply(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
    }

    /// <summary>
    /// Reads a file that reid may have written before it settled on snake_case, when it wrote camelCase. Such a
    /// file is told apart by an upper-case letter in a property name of its root object, which snake_case never
    /// has; so <typeparamref name="T"/> must have at least one multi-word property at its root.
    /// </summary>
    public static T? DeserializeAcceptingCamelCase<T>(string json)
    {
        using var document = JsonDocument.Parse(json);
        var camel = document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.EnumerateObject().Any(p => p.Name.Any(char.IsUpper));
        return document.RootElement.Deserialize<T>(camel ? LegacyCamelCase : Options);
    }

    private static readonly JsonSerializerOptions LegacyCamelCase = new(Options) { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static JsonSerializerOptions Create(bool indented, JsonIgnoreCondition ignore = JsonIgnoreCondition.Never)
    {
        var options = new JsonSerializerOptions { WriteIndented = indented, DefaultIgnoreCondition = ignore };
        Apply(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
