using System.Diagnostics;
using System.Text;
using Reid.TestSupport;

namespace Reid.Foundation.Tests.Cli;

public class TrainSignalTests
{
    [SharedFact]
    public void Sigterm_stops_training_with_a_checkpoint_and_says_how_to_resume()
    {
        using var dir = new TempDir();
        // The smoke recipe, long enough that the signal always lands mid-run.
        var repo = Core.ProjectPaths.RepoRoot!;
        var recipe = File.ReadAllText(Path.Combine(repo, "configs", "train_smoke.yaml")).Replace("epochs: 2\n", "epochs: 200\n");
        Assert.Contains("epochs: 200", recipe);
        var config = dir.File("long_smoke.yaml");
        File.WriteAllText(config, recipe);
        var output = dir.File("run");

        using var p = ReidCli.Start(["train", "--config", config, "--out", output]);
        // Redirected output gets one plain line per epoch phase: the signal goes once the second epoch has begun,
        // so the handler is installed and a checkpoint exists.
        var stdout = new StringBuilder();
        using var secondEpoch = new ManualResetEventSlim();
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stdout) stdout.AppendLine(e.Data);
            if (e.Data.Contains("epoch 2/200")) secondEpoch.Set();
        };
        p.BeginOutputReadLine();
        var stderr = p.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        Assert.True(secondEpoch.Wait(TimeSpan.FromMinutes(5)), $"no second epoch within 5 minutes; exited: {p.HasExited}; stdout:\n{stdout}");

        var signalled = clock.Elapsed;
        using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString()])) kill.WaitForExit();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), $"reid train did not stop within 2 minutes of SIGTERM (sent at {signalled})");
        var stopped = clock.Elapsed;
        Assert.True(p.ExitCode == 1, $"exit code {p.ExitCode} (signal at {signalled}, exit at {stopped}); stderr: {stderr.Result}\nstdout:\n{stdout}");
        Assert.Contains("--resume", stderr.Result);
        Assert.True(File.Exists(Path.Combine(output, "checkpoint.reidckpt")));
    }
}
