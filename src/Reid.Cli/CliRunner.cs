using System.CommandLine;
using Reid.Core;

namespace Reid.Cli;

/// <summary>
/// Runs the parsed command with the project's exit-code contract: 0 success, 1 a user error (one line on
/// stderr: ReidException, missing file, bad input), 2 bad usage (unknown option, missing argument).
/// </summary>
internal static class CliRunner
{
    public const int Ok = 0, UserError = 1, Usage = 2;

    public static int Run(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"reid: {error.Message}");
            Console.Error.WriteLine("Run 'reid --help' for usage.");
            return Usage;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"reid: {OneLine(e.Message)}");
            return UserError;
        }
    }

    private static bool IsUserError(Exception e) =>
        e is ReidException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
          or InvalidDataException || (e is AggregateException a && a.InnerExceptions.All(IsUserError));

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
