using System.CommandLine;

namespace Reid.Cli.Commands;

/// <summary>`reid bench …`: whole-pipeline benchmarks. Each kind is one subcommand, added here with one line.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Measure throughput (figures for docs/BENCHMARKS.md)");
        command.Subcommands.Add(BenchEmbedCommand.Create());
        command.Subcommands.Add(BenchTrainCommand.Create());
        command.Subcommands.Add(BenchCropStoreCommand.Create());
        return command;
    }
}
