using System.Diagnostics;
using System.Text.Json.Nodes;
using Reid.Imaging;
using Reid.Onnx;
using Reid.TestSupport;

namespace Reid.SpatialTemporal.Tests;

/// <summary>`reid st learn` and `reid evaluate --st` end to end on a synthetic Market-1501 split with a tiny ONNX model.</summary>
public sealed class StCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// Everyone walks camera 1 → camera 2 in 30 s, ten minutes apart. Test people 13/14 and 15/16 wear the same
    /// colours (the model's embedding is the mean colour), so appearance alone cannot tell them apart; time can.
    /// </summary>
    private (string Root, string Split, string Model) WriteData()
    {
        var root = Directory.CreateDirectory(_dir.File("market")).FullName;
        var split = Directory.CreateDirectory(_dir.File("split")).FullName;
        var (train, query, gallery) = (new List<string>(), new List<string>(), new List<string>());
        for (var p = 1; p <= 16; p++)
        {
            var look = p > 12 ? (p - 13) / 2 + 100 : p;
            var colour = new[] { (byte)(look * 37 % 256), (byte)(look * 91 % 256), (byte)(look * 53 % 256) };
            var t = p * 600.0;
            foreach (var (camera, seconds, box) in new[] { (1, t, 1), (1, t + 1, 2), (2, t + 30, 1), (2, t + 31, 2) })
            {
                var name = $"{p:D4}_c{camera}s1_{(int)(seconds * 25):D6}_{box:D2}.png";
                var pixels = new byte[64 * 128 * 3];
                for (var i = 0; i < pixels.Length; i++) pixels[i] = colour[i % 3];
                File.WriteAllBytes(Path.Combine(root, name), ImageCodec.EncodePng(new RgbImage(64, 128, pixels)));
                if (p <= 12) train.Add(name);
                else if (camera == 1 && box == 1) query.Add(name);
                else gallery.Add(name);
            }
        }
        File.WriteAllLines(Path.Combine(split, "train.txt"), train);
        File.WriteAllLines(Path.Combine(split, "query.txt"), query);
        File.WriteAllLines(Path.Combine(split, "gallery.txt"), gallery);
        var b = new OnnxGraphBuilder("mean_colour");
        b.Input("input", TensorElementType.Float, "batch", 3, 256, 128);
        b.Node("GlobalAveragePool", ["input"], ["pooled"]);
        b.Node("Flatten", ["pooled"], ["embedding"]).Attr("axis", 1L);
        b.Output("embedding", TensorElementType.Float, "batch", 3);
        var model = _dir.File("mean.onnx");
        b.Save(model);
        return (root, split, model);
    }

    [Fact]
    public void Learn_then_evaluate_with_st_separates_look_alikes_by_time()
    {
        var (root, split, model) = WriteData();
        var st = _dir.File("st.json");
        var learn = Run("st", "learn", "--model", model, "--root", root, "--split", split, "--out", st, "--folds", "2", "--json", _dir.File("learn.json"));
        Assert.True(learn.ExitCode == 0, learn.Stderr);
        var loaded = SpatialTemporalModel.Load(st);
        Assert.Equal(12, loaded.Identities);
        Assert.NotNull(loaded.Clock);

        var plain = Run("evaluate", "--model", model, "--root", root, "--split", split, "--json", _dir.File("plain.json"));
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        var fused = Run("evaluate", "--model", model, "--root", root, "--split", split, "--st", st, "--json", _dir.File("st-eval.json"));
        Assert.True(fused.ExitCode == 0, fused.Stderr);
        var both = Run("evaluate", "--model", model, "--root", root, "--split", split, "--st", st, "--rerank", "--json", _dir.File("both.json"));
        Assert.True(both.ExitCode == 0, both.Stderr);

        double Map(string f) => JsonNode.Parse(File.ReadAllText(_dir.File(f)))!["map"]!.GetValue<double>();
        Assert.True(Map("plain.json") < 0.9, $"appearance alone should confuse look-alikes: {Map("plain.json")}");
        Assert.Equal(1.0, Map("st-eval.json"), 6);
        Assert.Equal(st, JsonNode.Parse(File.ReadAllText(_dir.File("st-eval.json")))!["st"]!.GetValue<string>());
        Assert.InRange(Map("both.json"), Map("plain.json"), 1.0);
    }

    [Fact]
    public void A_corrupt_st_model_fails_before_embedding_with_one_line_naming_it()
    {
        var (root, split, model) = WriteData();
        var bad = _dir.File("bad.json");
        File.WriteAllText(bad, "{ not json");
        var r = Run("evaluate", "--model", model, "--root", root, "--split", split, "--st", bad);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(bad, r.Stderr);
        Assert.DoesNotContain("embed query", r.Stderr);
    }

    [Fact]
    public void Learning_without_a_training_list_is_a_user_error()
    {
        var (root, split, model) = WriteData();
        File.Delete(Path.Combine(split, "train.txt"));
        var r = Run("st", "learn", "--model", model, "--root", root, "--split", split, "--out", _dir.File("st.json"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no training list", r.Stderr);
    }

    private static ReidCli.Outcome Run(params string[] args) => ReidCli.Run(args);
}
