using System.CommandLine;
using Reid.Core;

namespace Reid.Cli.Commands;

/// <summary>`reid info`: where the project finds its files (repo root, shared data); handy when set-up fails.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show where reid finds its repository, models and shared data");
        command.SetAction(_ =>
        {
            Console.WriteLine($"repo root : {ProjectPaths.RepoRoot ?? "(not in a checkout)"}");
            Console.WriteLine($"models    : {ProjectPaths.ModelsDir ?? "-"}");
            Console.WriteLine($"shared    : {ProjectPaths.SharedDir ?? "(absent)"}");
            return CliRunner.Ok;
        });
        return command;
    }
}
