using System.CommandLine;
using System.Text.Json;
using Reid.Core;
using Reid.LoadTest;

// reid-loadtest: concurrent identify + enrol against a running `reid serve` from a second process, then a check
// that every acknowledged enrolment is stored and findable. Exit 0 only when nothing was lost, unfindable or failed.
var url = new Option<string>("--url") { Description = "Server base URL (127.0.0.1 only)", Required = true };
var key = new Option<string>("--key") { Description = "A read-write API key", Required = true };
var images = new Option<string>("--images") { Description = "Folder of person crops to enrol and probe with", Required = true };
var duration = new Option<double>("--duration") { Description = "Seconds", DefaultValueFactory = _ => 60 };
var identifiers = new Option<int>("--identify-clients") { Description = "Concurrent identify clients", DefaultValueFactory = _ => 3 };
var enrollers = new Option<int>("--enrol-clients") { Description = "Concurrent enrol clients", DefaultValueFactory = _ => 1 };
var json = new Option<string?>("--json") { Description = "Write the figures as JSON" };
var root = new RootCommand("Concurrent identify + enrol against a running `reid serve`; checks every enrolment is stored and findable")
    { url, key, images, duration, identifiers, enrollers, json };
root.SetAction(parse =>
{
    var baseUri = new Uri(parse.GetValue(url)!);
    if (!baseUri.IsLoopback) throw new ReidException($"load tests only against a loopback server (127.0.0.1), not {baseUri.Host}");
    var files = Directory.Exists(parse.GetValue(images)) ? Directory.EnumerateFiles(parse.GetValue(images)!, "*.jpg").Order().Take(2000).ToArray() : [];
    if (files.Length == 0) throw new ReidException($"{parse.GetValue(images)}: no .jpg images");
    var result = LoadGenerator.Run(baseUri, parse.GetValue(key)!, files, TimeSpan.FromSeconds(parse.GetValue(duration)),
        parse.GetValue(identifiers), parse.GetValue(enrollers)).GetAwaiter().GetResult();
    Console.WriteLine(JsonSerializer.Serialize(result, ReidJson.Options));
    if (parse.GetValue(json) is { Length: > 0 } path)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        File.WriteAllText(path, JsonSerializer.Serialize(result, ReidJson.Options));
    }
    return result.Errors == 0 && result.LostEnrolments == 0 && result.UnfindableEnrolments == 0 ? 0 : 1;
});

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"reid-loadtest: {error.Message}");
    return 2;
}
try
{
    return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (ReidException e)
{
    Console.Error.WriteLine($"reid-loadtest: {e.Message}");
    return 1;
}
