using System.CommandLine;

namespace Reid.Cli;

/// <summary>Every top-level command of `reid`, one line each, in the order `reid --help` lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return Commands.InfoCommand.Create();
        yield return Commands.ExtractCommand.Create();
        yield return Commands.EvaluateCommand.Create();
        yield return Commands.SearchCommand.Create();
        yield return Commands.TrainCommand.Create();
        yield return Commands.PretrainCommand.Create();
        yield return Commands.AdaptCommand.Create();
        yield return Commands.BenchCommand.Create();
        yield return Commands.ServeCommand.Create();
        yield return Commands.GalleryCommand.Create();
        yield return Commands.TrackCommand.Create();
        yield return Commands.CamerasCommand.Create();
        yield return Commands.WatchCommand.Create();
        yield return Commands.StCommand.Create();
        yield return Commands.ReplayCommand.Create();
        yield return Commands.ModelsCommand.Create();
    }
}
