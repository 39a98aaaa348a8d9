using System.Diagnostics;

namespace Reid.TestSupport;

/// <summary>
/// Runs the built `reid` CLI (reid.dll, copied beside every test project that references Reid.Cli) as a
/// separate process, as a user would. Colour is off so output can be matched; an environment value of null
/// removes that variable. <see cref="InProcess"/> runs a command inside the test's process instead: faster, and
/// a failure shows the command's own stack trace; keep process runs for what only a process shows (exit on a
/// signal, a kill, the installed program).
/// </summary>
public static class ReidCli
{
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr);

    public static Process Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "reid.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        if (SharedData.Root is { } shared) psi.Environment["REID_SHARED"] = shared;
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    public static Outcome Run(params string[] args) => Run(args, env: null);

    /// <summary>
    /// Captures what <paramref name="run"/> writes: a test project that references Reid.Cli passes
    /// <c>(stdout, stderr) => Reid.Cli.CliRunner.Run(args, stdout, stderr)</c> (this library stays below Reid.Cli).
    /// </summary>
    public static Outcome InProcess(Func<TextWriter, TextWriter, int> run)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = run(stdout, stderr);
        return new Outcome(code, stdout.ToString(), stderr.ToString());
    }

    public static Outcome Run(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env, TimeSpan? timeout = null)
    {
        using var p = Start(args, env);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(5)))
        {
            p.Kill(true);
            throw new TimeoutException($"reid {string.Join(' ', args)} did not finish");
        }
        return new Outcome(p.ExitCode, stdout.Result, stderr.Result);
    }
}
