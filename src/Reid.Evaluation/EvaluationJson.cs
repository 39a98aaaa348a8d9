using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reid.Core;

namespace Reid.Evaluation;

/// <summary>
/// The evaluation's JSON: <c>rank1, rank5, rank10, map, minp, valid_queries, skipped_queries</c> (fractions in
/// [0, 1]) first, then the CMC curve and verification figures; callers add their own keys (model, timings).
/// </summary>
public static class EvaluationJson
{
    public static JsonObject ToJson(EvaluationResult r)
    {
        var json = new JsonObject
        {
            ["rank1"] = r.Rank1, ["rank5"] = r.Rank5, ["rank10"] = r.Rank10,
            ["map"] = r.MeanAP, ["minp"] = r.MeanInp,
            ["valid_queries"] = r.ValidQueries, ["skipped_queries"] = r.SkippedQueries,
            ["distance"] = r.DistanceKind.ToString().ToLowerInvariant(),
            ["cmc"] = new JsonArray(r.Cmc.Values.Select(v => (JsonNode)Math.Round(v, 6)).ToArray()),
        };
        if (r.Verification is { } v)
        {
            var points = new JsonObject();
            foreach (var p in v.OperatingPoints)
                points[p.TargetFar.ToString("0e0", CultureInfo.InvariantCulture)] = new JsonObject
                {
                    ["tar"] = p.Tar, ["far"] = p.Far, ["threshold"] = float.IsFinite(p.Threshold) ? p.Threshold : null,
                };
            json["verification"] = new JsonObject
            {
                ["score"] = v.Kind == DistanceKind.Cosine ? "cosine similarity" : "negative distance",
                ["auc"] = double.IsFinite(v.Auc) ? v.Auc : null,
                ["genuine_pairs"] = v.Genuine.Length, ["impostor_pairs"] = v.Impostor.Length,
                ["tar_at_far"] = points,
            };
        }
        return json;
    }

    public static void Write(string path, JsonObject json)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(path, json.ToJsonString(ReidJson.Options) + "\n");
    }
}
