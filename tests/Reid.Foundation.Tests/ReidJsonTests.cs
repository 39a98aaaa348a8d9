using System.Text.Json;
using Reid.Core;

namespace Reid.Foundation.Tests;

public class ReidJsonTests
{
    private sealed record Fit(double BinSeconds, double MeanAp, int Rank1, string? Note, Dictionary<string, int>? PerCamera = null);

    [Fact]
    public void Writes_snake_case_names_and_leaves_dictionary_keys_as_they_are()
    {
        var json = JsonSerializer.Serialize(new Fit(4, 0.5, 3, null, new() { ["CamA"] = 1 }), ReidJson.Compact);
        Assert.Equal("""{"bin_seconds":4,"mean_ap":0.5,"rank1":3,"note":null,"per_camera":{"CamA":1}}""", json);
        Assert.Equal("""{"bin_seconds":4,"mean_ap":0.5,"rank1":3}""",
            JsonSerializer.Serialize(new Fit(4, 0.5, 3, null), ReidJson.CompactWithoutNulls));
        Assert.Contains("\n", JsonSerializer.Serialize(new Fit(4, 0.5, 3, null), ReidJson.Options));
    }

    [Fact]
    public void An_undefined_metric_is_written_rather_than_failing_the_whole_answer()
    {
        Assert.Contains("\"mean_ap\":\"NaN\"", JsonSerializer.Serialize(new Fit(4, double.NaN, 3, null), ReidJson.Compact));
    }

    [Fact]
    public void The_http_options_get_the_same_policy()
    {
        var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ReidJson.Apply(web);
        Assert.Equal(JsonSerializer.Serialize(new Fit(4, 0.5, 3, "x"), ReidJson.Compact), JsonSerializer.Serialize(new Fit(4, 0.5, 3, "x"), web));
    }

    [Fact]
    public void Reads_snake_case_and_the_camel_case_written_before_it()
    {
        Assert.Equal(new Fit(4, 0.5, 3, "new"), ReidJson.DeserializeAcceptingCamelCase<Fit>("""{"bin_seconds":4,"mean_ap":0.5,"rank1":3,"note":"new"}"""));
        Assert.Equal(new Fit(4, 0.5, 3, "old"), ReidJson.DeserializeAcceptingCamelCase<Fit>("""{"binSeconds":4,"meanAp":0.5,"rank1":3,"note":"old"}"""));
        Assert.ThrowsAny<JsonException>(() => ReidJson.DeserializeAcceptingCamelCase<Fit>("{"));
    }
}
