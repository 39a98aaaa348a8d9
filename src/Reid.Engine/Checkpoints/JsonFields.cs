using System.Text.Json.Nodes;
using Reid.Core;

namespace Reid.Engine.Checkpoints;

/// <summary>
/// Required fields of the JSON that checkpoints and archive headers carry, checked one by one: a missing or
/// mistyped field is a ReidException naming the file and the field, never a NullReferenceException or
/// InvalidOperationException from deep inside System.Text.Json that a catch has to translate.
/// </summary>
public static class JsonFields
{
    /// <summary>The value of <paramref name="node"/> as <typeparamref name="T"/>; <paramref name="what"/> names it in the error.</summary>
    public static T Value<T>(JsonNode? node, string what, string source)
    {
        if (node is JsonValue v && v.TryGetValue<T>(out var value) && value is not null) return value;
        throw new ReidException($"{source}: {what} is {(node is null ? "missing" : typeof(T) == typeof(string) ? "not text" : "not a number")}");
    }

    public static T Value<T>(JsonObject o, string key, string source) => Value<T>(o[key], $"'{key}'", source);

    public static JsonObject Object(JsonNode? node, string what, string source) =>
        node as JsonObject ?? throw new ReidException($"{source}: {what} is {(node is null ? "missing" : "not an object")}");

    public static JsonArray Array(JsonNode? node, string what, string source) =>
        node as JsonArray ?? throw new ReidException($"{source}: {what} is {(node is null ? "missing" : "not a list")}");
}
