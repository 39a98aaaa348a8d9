using System.CommandLine;

namespace Reid.Cli.Commands;

/// <summary>`reid bench …`: whole-pipeline benchmarks (each subcommand writes its figures with --json).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks: training throughput and more");
        command.Subcommands.Add(BenchTrainCommand.Create());
        return command;
    }
}
