using System.CommandLine;
using Reid.Core;
using Spectre.Console;

namespace Reid.Cli;

/// <summary>
/// Runs a `reid` command line with the project's exit-code contract: 0 success, 1 a user error (one line on
/// stderr: ReidException, missing file, bad input), 2 bad usage (unknown option, missing argument).
/// </summary>
public static class CliRunner
{
    public const int Ok = 0, UserError = 1, Usage = 2;

    /// <summary>The `reid` root command with every command of <see cref="CommandCatalog"/>.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("reid: person re-identification — train, evaluate, enrol, verify, identify, track");
        foreach (var command in CommandCatalog.All())
            root.Subcommands.Add(command);
        return root;
    }

    /// <summary>Runs <paramref name="args"/> as the `reid` program does, on the process's console.</summary>
    public static int Run(string[] args) => Run(CreateRoot(), args, Console.Out, Console.Error);

    /// <summary>
    /// Runs a `reid` command in this process, its standard output and error going to <paramref name="stdout"/> and
    /// <paramref name="stderr"/>: for tests that check a command's output and exit code without starting a process.
    /// Commands write to <see cref="Console"/> and Spectre's <see cref="AnsiConsole"/>, which are process-wide, so
    /// runs are serialised and both are redirected for the run's duration and restored after it. An exception that
    /// is not a user error propagates (a process would crash on it).
    /// </summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        lock (InProcess)
        {
            var (savedOut, savedErr, savedAnsi) = (Console.Out, Console.Error, AnsiConsole.Console);
            try
            {
                Console.SetOut(stdout);
                Console.SetError(stderr);
                AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
                {
                    Out = new AnsiConsoleOutput(stdout), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors,
                    Interactive = InteractionSupport.No,
                });
                return Run(CreateRoot(), args.ToArray(), stdout, stderr);
            }
            finally
            {
                Console.SetOut(savedOut);
                Console.SetError(savedErr);
                AnsiConsole.Console = savedAnsi;
            }
        }
    }

    private static readonly object InProcess = new();

    private static int Run(RootCommand root, string[] args, TextWriter stdout, TextWriter stderr)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) stderr.WriteLine($"reid: {error.Message}");
            stderr.WriteLine("Run 'reid --help' for usage.");
            return Usage;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = stdout, Error = stderr });
        }
        catch (Exception e) when (IsUserError(e))
        {
            stderr.WriteLine($"reid: {OneLine(e.Message)}");
            return UserError;
        }
    }

    private static bool IsUserError(Exception e) =>
        e is ReidException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
          or InvalidDataException || (e is AggregateException a && a.InnerExceptions.All(IsUserError));

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
