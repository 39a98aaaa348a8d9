using System.Diagnostics;
using Xunit;

namespace Reid.TestSupport;

/// <summary>Tiny videos made with ffmpeg's lavfi test source: 64x48, 10 fps.</summary>
public sealed class TinyVideo : IDisposable
{
    private readonly TempDir _dir = new();
    public string Path { get; }
    public string Folder => _dir.Path;

    public TinyVideo(int frames = 30, string name = "tiny.mp4", string codecArgs = "-c:v libx264 -pix_fmt yuv420p -g 5")
    {
        Path = _dir.File(name);
        var args = $"-v error -y -f lavfi -i testsrc=size=64x48:rate=10 -frames:v {frames} {codecArgs} {Path}";
        using var p = Process.Start(new ProcessStartInfo("ffmpeg", args) { RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
    }

    public void Dispose() => _dir.Dispose();
}
