using System.Text.Json;
using Reid.Core;
using Reid.Gallery.Api;
using Reid.Imaging;

namespace Reid.Gallery.Tests;

/// <summary>Names the web UI and clients read: a change here is a change to the documented API.</summary>
public class ApiJsonTests
{
    private static JsonElement Write(object value) => JsonDocument.Parse(JsonSerializer.Serialize(value, ReidJson.Options)).RootElement;

    [Fact]
    public void A_sighting_carries_its_box_as_x_y_width_height_only()
    {
        var origin = new SightingSource("c1", DateTimeOffset.UnixEpoch, "v.mp4", 12, 0.48, new BoundingBox(30.5f, 20, 24, 48));
        var json = Write(SightingDto.From(new Sighting(5, 2, origin, 64, 128, DateTimeOffset.UnixEpoch)));
        Assert.Equal(["x", "y", "width", "height"], json.GetProperty("box").EnumerateObject().Select(p => p.Name));
        Assert.Equal(30.5, json.GetProperty("box").GetProperty("x").GetDouble());
        Assert.Equal(["id", "identity", "camera", "captured_at", "source", "frame", "source_time", "box", "width", "height", "crop"],
            json.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Video_calibration_names_its_evidence_in_snake_case()
    {
        var json = Write(new CalibrationDto("m", 0.7, 1e-3, 1e-3, 2e-3, null, 4, 3, 100, 10));
        Assert.Equal(["model", "threshold", "far", "target_far", "far_upper_bound95", "tar", "tracks", "people_pairs", "impostor_comparisons", "genuine_comparisons"],
            json.EnumerateObject().Select(p => p.Name));
    }
}
