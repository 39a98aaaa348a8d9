using System.CommandLine;
using Reid.Video.Models;

namespace Reid.Cli.Commands;

/// <summary>`reid models list|fetch NAME`: third-party models reid can download from their official release and verify.</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "Third-party models reid can download (it ships none): list, fetch");

        var list = new Command("list", "List the models `reid models fetch` knows");
        list.SetAction(_ =>
        {
            foreach (var m in ModelFetcher.Catalog)
                Console.WriteLine($"{m.Name,-12} {m.License,-11} {(ModelFetcher.Cached(m) is { } p ? p : "(not fetched)")}  {m.Description}");
            return CliRunner.Ok;
        });

        var name = new Argument<string>("name") { Description = "Model name (see `reid models list`)" };
        var dir = new Option<string?>("--dir") { Description = "Where to put it (default: the user cache, where reid looks)" };
        var url = new Option<string?>("--url") { Description = "Download from this address instead (a mirror); the SHA-256 is still checked" };
        var fetch = new Command("fetch", "Download a known model from its official release address and check its SHA-256");
        fetch.Arguments.Add(name);
        fetch.Options.Add(dir);
        fetch.Options.Add(url);
        fetch.SetAction(parse =>
        {
            var model = ModelFetcher.Find(parse.GetValue(name)!);
            var path = ModelFetcher.FetchAsync(model, parse.GetValue(dir), parse.GetValue(url)).GetAwaiter().GetResult();
            Console.WriteLine($"{model.Name}: {path} (SHA-256 {model.Sha256[..16]}…, {model.License})");
            return CliRunner.Ok;
        });

        command.Subcommands.Add(list);
        command.Subcommands.Add(fetch);
        return command;
    }
}
