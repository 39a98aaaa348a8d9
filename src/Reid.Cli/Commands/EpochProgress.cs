using Spectre.Console;

namespace Reid.Cli.Commands;

/// <summary>
/// The progress display of the epoch-and-step commands (`reid adapt`, `reid pretrain`): a bar over epochs x steps on a
/// terminal; in a log (output redirected) one plain line each time the phase or epoch changes.
/// </summary>
internal static class EpochProgress
{
    /// <param name="run">starts the work with the reporter to use</param>
    /// <param name="position">a report's phase, epoch, epochs, step and steps (steps count only in phase "training")</param>
    /// <param name="describe">the bar's text for a report</param>
    /// <param name="logLine">the line a log gets when the phase or epoch changes</param>
    public static TResult Show<TProgress, TResult>(Func<IProgress<TProgress>, TResult> run,
        Func<TProgress, (string Phase, int Epoch, int Epochs, int Step, int Steps)> position,
        Func<TProgress, string> describe, Func<TProgress, string> logLine)
    {
        if (Console.IsOutputRedirected)
        {
            var last = "";
            return run(new SyncProgress<TProgress>(p =>
            {
                var (phase, epoch, _, _, _) = position(p);
                var key = $"{phase} {epoch}";
                if (key == last) return;
                last = key;
                Console.WriteLine(logLine(p));
            }));
        }
        TResult result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: 1);
                result = run(new SyncProgress<TProgress>(p =>
                {
                    task.Description = Markup.Escape(describe(p));
                    var (phase, epoch, epochs, step, steps) = position(p);
                    if (phase != "training") return;
                    task.MaxValue = Math.Max(1, epochs * Math.Max(1, steps));
                    task.Value = Math.Max(0, (epoch - 1) * steps + step);
                }));
                task.Value = task.MaxValue;
            });
        return result;
    }

    /// <summary>Reports on the calling thread (System.Progress would post to the thread pool, out of order).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
