using Reid.TestSupport;

namespace Reid.Foundation.Tests.Cli;

public class TrainLogTests
{
    /// <summary>
    /// A redirected `reid train` (a log file, CI) prints one line per evaluation, even when two evaluations
    /// in a row give the same figures (likely on the smoke recipe's three validation identities).
    /// </summary>
    [SharedFact]
    public void A_logged_run_prints_every_evaluation()
    {
        using var dir = new TempDir();
        var config = Path.Combine(Core.ProjectPaths.RepoRoot!, "configs", "train_smoke.yaml");
        var run = ReidCli.Run(["train", "--config", config, "--out", dir.File("run")], env: null, TimeSpan.FromMinutes(10));
        Assert.True(run.ExitCode == 0, run.Stderr);
        var evaluated = run.Stdout.Split('\n').Where(l => l.StartsWith("evaluated: Rank-1 ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, evaluated.Count); // evaluation.every: 1 over 2 epochs
        Assert.Contains("evaluation : Rank-1", run.Stdout);
        Assert.Contains("fold of the training identities", run.Stdout);
    }
}
