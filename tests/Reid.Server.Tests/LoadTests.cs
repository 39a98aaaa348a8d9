using System.Text.Json;
using Reid.Gallery.Tests;
using Reid.TestSupport;

namespace Reid.Server.Tests;

/// <summary>The load test as CI runs it: a second process (bench/Reid.LoadTest) drives concurrent identify + enrol for a few seconds.</summary>
public class LoadTests
{
    [Fact]
    public async Task A_short_load_from_a_second_process_has_no_errors_and_loses_no_enrolment()
    {
        // This test is about integrity under concurrency, not the rate limiter (ServerTests covers 429): with the
        // tiny test model an idle machine serves thousands of requests a second, far above the default bucket.
        await using var server = await TestServer.StartAsync(o => o with { PermitsPerSecond = 1_000_000, Burst = 1_000_000 });
        using var images = new TempDir();
        for (var p = 0; p < 6; p++)
        for (var s = 0; s < 4; s++)
            await File.WriteAllBytesAsync(images.File($"p{p}_{s}.jpg"), Fixtures.PersonJpeg(p, s));
        var json = images.File("load.json");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "reid-loadtest.dll"), "--url", server.BaseAddress.ToString().TrimEnd('/'),
                "--key", server.WriteKey, "--images", images.Path, "--duration", "4", "--identify-clients", "3", "--enrol-clients", "2", "--json", json },
        };
        using var child = System.Diagnostics.Process.Start(psi)!;
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        await child.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        Assert.True(child.ExitCode == 0, await stdout + await stderr);
        var r = JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement;
        Assert.Equal(0, r.GetProperty("errors").GetInt32());
        Assert.Equal(0, r.GetProperty("lost_enrolments").GetInt32());
        Assert.Equal(0, r.GetProperty("unfindable_enrolments").GetInt32());   // every acknowledged enrolment verifies as itself
        var enrolments = r.GetProperty("enrolments").GetInt32();
        Assert.True(enrolments > 0 && r.GetProperty("identifies").GetInt32() > 0);
        Assert.Equal(enrolments, server.Gallery.Store.CountIdentities());
        Assert.Empty(server.Gallery.Store.CheckConsistency());
    }
}
