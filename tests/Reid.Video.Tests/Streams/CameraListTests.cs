using Reid.Core;
using Reid.TestSupport;
using Reid.Video.Streams;

namespace Reid.Video.Tests.Streams;

public class CameraListTests
{
    [Fact]
    public void A_yaml_list_is_read_with_files_relative_to_it()
    {
        using var dir = new TempDir();
        using var video = new TinyVideo(5);
        File.Copy(video.Path, dir.File("door.mp4"));
        File.WriteAllText(dir.File("cameras.yaml"), """
            cameras:
              - id: door
                url: door.mp4
                loop: true
              - id: hall
                url: rtsp://10.0.0.5:8554/hall
                max_fps: 5
            """);
        var cams = CameraList.Load(dir.File("cameras.yaml"));
        Assert.Equal([new CameraSource("door", dir.File("door.mp4"), null, true), new CameraSource("hall", "rtsp://10.0.0.5:8554/hall", 5, false)], cams);
    }

    [Fact]
    public void Every_problem_of_a_yaml_list_is_named_with_its_key_and_line()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("cameras.yaml"), """
            cameras:
              - id: a
                url: tcp://127.0.0.1:9000
              - id: a
                url: gopher://x/y
                max_fps: 0
              - id: c
                url: /nowhere/c.mp4
                colour: red
            """);
        var e = Assert.Throws<ReidException>(() => CameraList.Load(dir.File("cameras.yaml")));
        Assert.Contains("cameras[1].id: camera id 'a' is used twice (also cameras[0]) (line 4)", e.Message);
        Assert.Contains("cameras[1].url: 'gopher://x/y': unsupported scheme 'gopher'", e.Message);
        Assert.Contains("cameras[1].max_fps must be above 0", e.Message);
        Assert.Contains("cameras[2].url: '/nowhere/c.mp4' is neither a URL", e.Message);
        Assert.Contains("colour", e.Message);
    }

    [Fact]
    public void A_command_line_set_refuses_a_repeated_id_and_a_bad_url()
    {
        Assert.Equal(new CameraSource("cam1", "tcp://127.0.0.1:9000"), CameraList.Parse("cam1=tcp://127.0.0.1:9000"));
        Assert.Contains("expected ID=URL", Assert.Throws<ReidException>(() => CameraList.Parse("tcp://127.0.0.1:9000")).Message);
        Assert.Contains("'a' is used twice", Assert.Throws<ReidException>(() =>
            CameraList.Check([CameraList.Parse("a=tcp://127.0.0.1:1"), CameraList.Parse("a=tcp://127.0.0.1:2")])).Message);
        Assert.Contains("camera b: 'rtsp://' is not a valid URL", Assert.Throws<ReidException>(() => CameraList.Check([CameraList.Parse("b=rtsp://")])).Message);
        Assert.Contains("no camera", Assert.Throws<ReidException>(() => CameraList.Check([])).Message);
    }
}
