using Reid.Core;
using Reid.Video.CrossCamera;

namespace Reid.Video.Tests;

public class CameraVideoTests
{
    [Fact]
    public void Parses_camera_path_start_and_an_optional_frame_range()
    {
        var v = CameraVideo.Parse("cam 1=/v/a@b.mp4@2026-11-21T10:00:00Z");
        Assert.Equal(("cam 1", "/v/a@b.mp4", (long?)null), (v.Camera, v.Path, v.From));
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero), v.Start);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 10, 0, 1, 500, TimeSpan.Zero), v.At(1.5));

        var r = CameraVideo.Parse("c2=x.mp4#601-1200@2026-11-21T11:00:00+01:00");
        Assert.Equal(("x.mp4", (long?)601, (long?)1200), (r.Path, r.From, r.To));
        Assert.Equal(v.StartSeconds, r.StartSeconds);   // same instant, other zone
    }

    [Theory]
    [InlineData("a.mp4@2026-11-21T10:00:00Z")]             // no camera
    [InlineData("=a.mp4@2026-11-21T10:00:00Z")]
    [InlineData("c1=a.mp4")]                              // no start
    [InlineData("c1=a.mp4@yesterday")]
    [InlineData("c1=a.mp4@2026-11-21T10:00:00")]           // no zone: ambiguous across machines
    [InlineData("c1=a.mp4#9-3@2026-11-21T10:00:00Z")]
    [InlineData("c1=a.mp4#0-3@2026-11-21T10:00:00Z")]
    [InlineData("c1=#1-3@2026-11-21T10:00:00Z")]
    public void Refuses_bad_specs_naming_them(string spec) =>
        Assert.Contains(spec, Assert.Throws<ReidException>(() => CameraVideo.Parse(spec)).Message);
}
