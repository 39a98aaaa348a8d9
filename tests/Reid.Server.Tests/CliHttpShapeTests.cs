using System.Text.Json;
using Reid.Gallery;
using Reid.TestSupport;

namespace Reid.Server.Tests;

/// <summary>`reid gallery … --json` writes the answers `reid serve` gives: one shape for one question.</summary>
public class CliHttpShapeTests
{
    private static ReidCli.Outcome Run(params string[] args) => ReidCli.Run(args, env: null, TimeSpan.FromMinutes(3));

    /// <summary>The property names of a JSON value, as paths (array items share one path).</summary>
    private static SortedSet<string> Shape(JsonElement e, string path = "$", SortedSet<string>? into = null)
    {
        into ??= new SortedSet<string>(StringComparer.Ordinal);
        if (e.ValueKind == JsonValueKind.Object)
            foreach (var p in e.EnumerateObject()) { into.Add($"{path}.{p.Name}"); Shape(p.Value, $"{path}.{p.Name}", into); }
        else if (e.ValueKind == JsonValueKind.Array)
            foreach (var item in e.EnumerateArray()) Shape(item, path + "[]", into);
        return into;
    }

    [SharedFact]
    public async Task The_cli_and_the_http_api_answer_identify_verify_and_enrol_in_one_shape()
    {
        using var dir = new TempDir();
        var a = SharedData.MarketImagesOf("0002", 4);
        var b = SharedData.MarketImagesOf("0007", 3);
        Assert.Equal(0, Run(["gallery", "enrol", "--data", dir.Path, "--name", "Anna", "--json", dir.File("enrol.json"), "--images", .. a[..3]]).ExitCode);
        Assert.Equal(0, Run(["gallery", "enrol", "--data", dir.Path, "--name", "Ben", "--images", .. b]).ExitCode);
        Assert.Equal(0, Run("gallery", "identify", "--data", dir.Path, "--image", a[3], "--json", dir.File("id.json"), "--threshold", "0.6").ExitCode);
        var anna = JsonDocument.Parse(File.ReadAllText(dir.File("enrol.json"))).RootElement.GetProperty("identity").GetProperty("id").GetInt64();
        Assert.Equal(0, Run("gallery", "verify", "--data", dir.Path, "--identity", $"{anna}", "--image", a[3], "--json", dir.File("verify.json")).ExitCode);
        var cli = (Identify: JsonDocument.Parse(File.ReadAllText(dir.File("id.json"))).RootElement,
                   Verify: JsonDocument.Parse(File.ReadAllText(dir.File("verify.json"))).RootElement,
                   Enrol: JsonDocument.Parse(File.ReadAllText(dir.File("enrol.json"))).RootElement);

        using var model = GalleryModels.Open();
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), model);
        var key = Reid.Server.ApiKeys.EnsureAdminKey(gallery.Store)!;
        await using var app = Reid.Server.ReidServer.Build(new Reid.Server.ServerOptions(dir.Path, "http://127.0.0.1:0"), gallery);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(Reid.Server.ReidServer.BoundAddresses(app).First()) };
        http.DefaultRequestHeaders.Add(Reid.Server.ApiKeys.Header, key);
        async Task<JsonElement> Post(string path, params (string, string)[] fields)
        {
            var response = await http.PostAsync(path, TestServer.Form([(Path.GetFileName(a[3]), File.ReadAllBytes(a[3]))], fields));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            return JsonDocument.Parse(text).RootElement;
        }
        var identify = await Post("/api/identify", ("threshold", "0.6"));
        var verify = await Post("/api/verify", ("identity", $"{anna}"));
        var enrol = await Post("/api/identities", ("name", "Cleo"));

        Assert.Equal(Shape(identify), Shape(cli.Identify));
        Assert.Contains("$.matches[].mean_score", Shape(identify));
        Assert.Equal(identify.GetProperty("matches").EnumerateArray().Select(m => m.GetProperty("identity").GetInt64()),
            cli.Identify.GetProperty("matches").EnumerateArray().Select(m => m.GetProperty("identity").GetInt64()));
        Assert.Equal(Shape(verify), Shape(cli.Verify));
        Assert.True(cli.Verify.GetProperty("match").GetBoolean());
        Assert.Equal(Shape(enrol), Shape(cli.Enrol));
        Assert.Equal(anna, cli.Enrol.GetProperty("identity").GetProperty("id").GetInt64());
    }
}
