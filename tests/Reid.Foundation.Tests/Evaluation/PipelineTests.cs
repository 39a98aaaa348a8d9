using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Data;
using Reid.Evaluation;
using Reid.Evaluation.Report;
using Reid.Imaging;
using Reid.TestSupport;

namespace Reid.Foundation.Tests.Evaluation;

/// <summary>
/// Decode → embed → evaluate → CSV/JSON/HTML on a tiny synthetic Market-style data set, with a stand-in model
/// (the mean colour of the image) so that nothing here needs ONNX Runtime.
/// </summary>
public class PipelineTests
{
    internal static float[][] MeanColour(IReadOnlyList<RgbImage> images) => images.Select(img =>
    {
        double r = 0, g = 0, b = 0;
        for (var i = 0; i < img.Pixels.Length; i += 3) { r += img.Pixels[i]; g += img.Pixels[i + 1]; b += img.Pixels[i + 2]; }
        var n = img.Pixels.Length / 3.0;
        var v = new[] { (float)(r / n), (float)(g / n), (float)(b / n) };
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }).ToArray();

    /// <summary>Person p is a solid colour (slightly different per camera); writes query/ and bounding_box_test/.</summary>
    internal static string WriteMarketFolder(string root, int people = 4)
    {
        var rng = new Random(5);
        for (var p = 1; p <= people; p++)
        {
            var (r, g, b) = ((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256));
            for (var cam = 1; cam <= 3; cam++)
            {
                var folder = cam == 1 ? "query" : "bounding_box_test";
                Directory.CreateDirectory(Path.Combine(root, folder));
                var img = RgbImage.Blank(32, 64);
                for (var i = 0; i < img.Pixels.Length; i += 3)
                    (img.Pixels[i], img.Pixels[i + 1], img.Pixels[i + 2]) = ((byte)Math.Min(255, r + 3 * cam), g, b);
                ImageCodec.Save(img, Path.Combine(root, folder, $"{p:0000}_c{cam}s1_{100 * cam:000000}_01.png"));
            }
        }
        return root;
    }

    [Fact]
    public void EmbedEvaluateAndWriteEveryOutput()
    {
        using var dir = new TempDir();
        var ds = Market1501Dataset.LoadFolder(WriteMarketFolder(dir.Path));
        var done = new List<int>();
        var q = DatasetEmbedding.Run(ds.Query, MeanColour, batchSize: 3, progress: done.Add);
        var g = DatasetEmbedding.Run(ds.Gallery, MeanColour, batchSize: 3);
        Assert.Equal([3, 4], done);
        Assert.Equal(4, q.Embeddings.Length);

        var d = DistanceMatrix.Compute(q.Embeddings, g.Embeddings, DistanceKind.Cosine);
        var result = Evaluator.Evaluate(d, q.Records, g.Records);
        Assert.Equal(4, result.ValidQueries);
        Assert.Equal(1.0, result.Rank1);
        Assert.Equal(1.0, result.MeanAP, 6);
        Assert.True(result.Verification!.Auc > 0.9);

        var json = EvaluationJson.ToJson(result);
        foreach (var key in new[] { "rank1", "rank5", "rank10", "map", "minp", "valid_queries", "skipped_queries" })
            Assert.True(json.ContainsKey(key), key);
        EvaluationJson.Write(dir.File("out/r.json"), json);
        Assert.Equal(4, JsonNode.Parse(File.ReadAllText(dir.File("out/r.json")))!["valid_queries"]!.GetValue<int>());

        RankListCsv.Write(dir.File("out/ranks.csv"), result, q.Records, g.Records, topK: 2);
        var lines = File.ReadAllLines(dir.File("out/ranks.csv"));
        Assert.Equal(1 + 4 * 2, lines.Length);
        Assert.StartsWith("0001_c1s1_000100_01.png,1,1,1,0001_c", lines[1]);
        Assert.EndsWith(",1", lines[1]);

        var page = HtmlReport.Write(dir.File("report"), result, q.Records, g.Records,
            new ReportOptions("test <report>", [new("model", "mean colour")], SampleQueries: 2, WorstQueries: 2));
        var html = File.ReadAllText(page);
        Assert.Contains("test &lt;report&gt;", html);
        Assert.Equal(3, html.Split("<svg").Length - 1);  // CMC, ROC, histogram
        Assert.DoesNotContain("http://cdn", html);
        Assert.DoesNotContain("<script", html);
        var shown = Directory.GetFiles(dir.File("report/images"));
        Assert.NotEmpty(shown);
        Assert.All(shown, f => Assert.Contains($"images/{Path.GetFileName(f)}", html));
    }

    [Fact]
    public void BadImagesAbortOrAreCountedWithSkipBad()
    {
        using var dir = new TempDir();
        var ds = Market1501Dataset.LoadFolder(WriteMarketFolder(dir.Path));
        File.WriteAllBytes(ds.Gallery[2].Path, []);
        File.WriteAllBytes(ds.Gallery[5].Path, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var e = Assert.Throws<ImageDecodeException>(() => DatasetEmbedding.Run(ds.Gallery, MeanColour, batchSize: 4));
        Assert.Contains(ds.Gallery[2].Name, e.Message);

        var run = DatasetEmbedding.Run(ds.Gallery, MeanColour, batchSize: 4, skipBad: true);
        Assert.Equal(2, run.Bad.Count);
        Assert.Equal(ds.Gallery.Count - 2, run.Records.Count);
        Assert.DoesNotContain(ds.Gallery[5], run.Records);
        Assert.Equal(run.Records.Count, run.Embeddings.Length);
    }

    [Fact]
    public void EmbeddingFileRoundTripsAndRefusesDamage()
    {
        using var dir = new TempDir();
        ImageRecord[] records = [new("a/1.jpg", 3, "c1", 2, 140, 1.5), new("b/2.jpg", 4, null)];
        float[][] vectors = [[1, 0, 0.5f], [0, -1, 2]];
        var path = dir.File("x.emb");
        EmbeddingFile.Write(path, records, vectors, new EmbeddingMetadata("m.onnx", "abc", Flip: true));
        Assert.Equal(EmbeddingFile.HeaderBytes + 4 * 6, new FileInfo(path).Length);
        var back = EmbeddingFile.Read(path);
        Assert.Equal(records, back.Records);
        Assert.Equal(vectors, back.Embeddings);
        Assert.True(back.Metadata.Flip);
        Assert.Equal("abc", back.Metadata.ModelId);

        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^4]);
        Assert.Contains("truncated", Assert.Throws<ReidException>(() => EmbeddingFile.Read(path)).Message);
        File.WriteAllText(path, "hello world, not embeddings");
        Assert.Contains("REIDEMB1", Assert.Throws<ReidException>(() => EmbeddingFile.Read(path)).Message);
    }
}
