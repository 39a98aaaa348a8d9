using Reid.Core;
using Reid.Imaging;
using Reid.Inference;
using Reid.Onnx;
using Reid.TestSupport;
using Reid.Foundation.Tests.Imaging;

namespace Reid.Foundation.Tests.Inference;

public class EmbedderTests
{
    private static string Save(TempDir dir, OnnxGraphBuilder b, string name = "model.onnx")
    {
        var path = dir.File(name);
        b.Save(path);
        return path;
    }

    private static OnnxGraphBuilder WithRawMetadata(OnnxGraphBuilder b)
    {
        foreach (var (k, v) in ModelPreprocessing.ToMetadata(TinyModels.Raw2x2)) b.Metadata(k, v);
        return b;
    }

    [Theory]
    [InlineData(false, 32)]
    [InlineData(false, 2)]
    [InlineData(true, 32)]
    public void EmbeddingsAreTheNormalisedLinearMap(bool fixedBatch, int batchSize)
    {
        using var dir = new TempDir();
        using var e = Embedder.Open(Save(dir, WithRawMetadata(TinyModels.Linear(fixedBatch))), new EmbedderOptions(BatchSize: batchSize));
        Assert.Equal(4, e.Dimension);
        Assert.Equal("metadata", e.PreprocessingSource);
        Assert.Equal(TinyModels.Raw2x2, e.Preprocessing);
        Assert.Equal(fixedBatch ? 1 : null, e.FixedBatch);
        var images = Enumerable.Range(0, 5).Select(TinyModels.Image).ToList();
        var got = e.Embed(images);
        Assert.Equal(5, got.Length);
        for (var i = 0; i < 5; i++)
        {
            var expected = TinyModels.Unit(TinyModels.Apply(TinyModels.Chw(images[i])));
            for (var k = 0; k < 4; k++) Assert.Equal(expected[k], got[i][k], 5);
        }
    }

    [Fact]
    public void FlipTtaAveragesImageAndMirrorBeforeNormalising()
    {
        using var dir = new TempDir();
        using var e = Embedder.Open(Save(dir, WithRawMetadata(TinyModels.Linear())), new EmbedderOptions(FlipTta: true));
        var img = TinyModels.Image(42);
        var a = TinyModels.Apply(TinyModels.Chw(img));
        var b = TinyModels.Apply(TinyModels.Chw(img, flip: true));
        var expected = TinyModels.Unit([.. a.Zip(b, (x, y) => x + y)]);
        var got = e.Embed(img);
        for (var k = 0; k < 4; k++) Assert.Equal(expected[k], got[k], 5);
        Assert.True(Math.Abs(TinyModels.Unit(a)[0] - got[0]) > 1e-3, "flip made no difference: the test model is symmetric");
    }

    [Fact]
    public void ModelIdIsTheContentHashNotThePath()
    {
        using var dir = new TempDir();
        var bytes = WithRawMetadata(TinyModels.Linear()).ToBytes();
        File.WriteAllBytes(dir.File("a.onnx"), bytes);
        File.WriteAllBytes(dir.File("b.onnx"), bytes);
        using var a = Embedder.Open(dir.File("a.onnx"));
        using var b = Embedder.Open(dir.File("b.onnx"));
        Assert.Equal(a.ModelId, b.ModelId);
        Assert.Equal(16, a.ModelId.Length);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), a.Sha256);
    }

    [Fact]
    public void DynamicSizeWithoutMetadataDefaultsTo256x128ImageNet()
    {
        using var dir = new TempDir();
        using var e = Embedder.Open(Save(dir, TinyModels.ChannelMeans()));
        Assert.Equal("defaults", e.PreprocessingSource);
        Assert.Equal(Preprocessing.ImageNet(256, 128), e.Preprocessing);
        Assert.Equal(3, e.Dimension);   // probed: the output's dims are symbolic
        var v = e.Embed(TestImages.Solid(64, 128, 255, 128, 0));
        var raw = new[] { (1f - 0.485f) / 0.229f, (128f / 255 - 0.456f) / 0.224f, -0.406f / 0.225f };
        var expected = TinyModels.Unit(raw);
        for (var k = 0; k < 3; k++) Assert.Equal(expected[k], v[k], 3);   // float sums over 32768 values
    }

    [Fact]
    public void FixedSizeWithoutMetadataTakesTheModelsSize()
    {
        using var dir = new TempDir();
        using var e = Embedder.Open(Save(dir, TinyModels.Linear()));
        Assert.Equal(Preprocessing.ImageNet(2, 2), e.Preprocessing);
    }

    [Fact]
    public void SidecarJsonGivesThePreprocessing()
    {
        using var dir = new TempDir();
        var path = Save(dir, TinyModels.ChannelMeans(), "third-party.onnx");
        File.WriteAllText(dir.File("third-party.model.json"),
            """{"input_height": 8, "input_width": 4, "channel_order": "BGR", "pixel_scale": 1, "mean": [0,0,0], "std": [1,1,1]}""");
        using var e = Embedder.Open(path);
        Assert.EndsWith("third-party.model.json", e.PreprocessingSource);
        Assert.Equal(new Preprocessing(8, 4, ChannelOrder.Bgr, 1, (0, 0, 0), (1, 1, 1)), e.Preprocessing);
        var v = e.Embed(TestImages.Solid(3, 3, 30, 0, 40));
        Assert.Equal(TinyModels.Unit([40f, 0f, 30f]), v);   // BGR planes

        File.WriteAllText(dir.File("third-party.model.json"), """{"input_height": "tall"}""");
        Assert.Contains("reid.input_height", Assert.Throws<ReidException>(() => Embedder.Open(path)).Message);
    }

    [Fact]
    public void A_model_declares_its_threshold_in_metadata_or_a_sidecar()
    {
        using var dir = new TempDir();
        using (var none = Embedder.Open(Save(dir, WithRawMetadata(TinyModels.Linear()), "plain.onnx")))
            Assert.Null(none.DeclaredThreshold);

        var b = WithRawMetadata(TinyModels.Linear()).Metadata(ModelThreshold.ScoreKey, "0.5897").Metadata(ModelThreshold.FarKey, "0.001")
            .Metadata(ModelThreshold.SourceKey, "holdout-v1");
        using (var e = Embedder.Open(Save(dir, b, "declared.onnx")))
        {
            Assert.Equal(0.5897, e.DeclaredThreshold!.Score, 6);
            Assert.Equal(0.001, e.DeclaredThreshold.Far);
            Assert.Contains("holdout-v1", e.DeclaredThreshold.Source);
        }

        var path = Save(dir, TinyModels.ChannelMeans(), "third-party.onnx");
        File.WriteAllText(dir.File("third-party.model.json"), """{"threshold": 0.61, "threshold_far": 0.0001}""");
        using (var e = Embedder.Open(path))
        {
            Assert.Equal(0.61, e.DeclaredThreshold!.Score, 6);
            Assert.Contains("third-party.model.json", e.DeclaredThreshold.Source);
        }

        File.WriteAllText(dir.File("third-party.model.json"), """{"threshold": 3}""");
        Assert.Contains("reid.threshold", Assert.Throws<ReidException>(() => Embedder.Open(path)).Message);
        File.WriteAllText(dir.File("third-party.model.json"), """{"threshold": 0.6, "threshold_far": 2}""");
        Assert.Contains("reid.threshold_far", Assert.Throws<ReidException>(() => Embedder.Open(path)).Message);
    }

    [Fact]
    public void MetadataSizeMustAgreeWithAFixedInput()
    {
        using var dir = new TempDir();
        var b = TinyModels.Linear().Metadata(ModelPreprocessing.InputHeight, "256");
        var e = Assert.Throws<OnnxModelException>(() => Embedder.Open(Save(dir, b)));
        Assert.Contains("256x2", e.Message);
        Assert.Contains("'x' float[batch,3,2,2]", e.Message);
    }

    [Fact]
    public void NonImageModelsAreRefusedWithTheirSignature()
    {
        using var dir = new TempDir();
        var wrongType = Assert.Throws<OnnxModelException>(() => Embedder.Open(Save(dir, TinyModels.Linear(inputType: TensorElementType.Int64), "int.onnx")));
        Assert.Contains("float [N,3,H,W]", wrongType.Message);
        Assert.Contains("int64", wrongType.Message);

        var flat = new OnnxGraphBuilder("flat");
        flat.Input("x", TensorElementType.Float, "batch", 12);
        flat.Node("Relu", ["x"], ["y"]);
        flat.Output("y", TensorElementType.Float, "batch", 12);
        Assert.Contains("'x' float[batch,12]", Assert.Throws<OnnxModelException>(() => Embedder.Open(Save(dir, flat, "flat.onnx"))).Message);
    }

    [Fact]
    public void PreprocessedBatchesGiveTheSameEmbeddings()
    {
        using var dir = new TempDir();
        using var e = Embedder.Open(Save(dir, WithRawMetadata(TinyModels.Linear(fixedBatch: true))));
        var images = Enumerable.Range(0, 3).Select(TinyModels.Image).ToList();
        var batch = new float[3 * 12];
        ImageBatch.Preprocess(images, e.Preprocessing, batch);
        Assert.Equal(e.Embed(images), e.EmbedPreprocessed(batch, 3));
    }

    [SharedFact]
    public void SharedOsnetGives512DimensionalUnitVectorsAndFlipTtaWorks()
    {
        var names = File.ReadAllLines(Path.Combine(SharedData.HoldoutV1, "query.txt")).Take(6);
        var images = ImageBatch.DecodeAll(names.Select(n => Path.Combine(SharedData.Market1501Train, n)).ToList());
        using var plain = Embedder.Open(SharedData.OsnetMsmt17, new EmbedderOptions(BatchSize: 4));
        using var tta = Embedder.Open(SharedData.OsnetMsmt17, new EmbedderOptions(FlipTta: true));
        Assert.Equal(512, plain.Dimension);
        Assert.Equal(Preprocessing.ImageNet(256, 128), plain.Preprocessing);
        var a = plain.Embed(images);
        var b = tta.Embed(images);
        var one = plain.Embed(images[5]);   // batch 1 agrees with batch 4
        for (var i = 0; i < images.Length; i++)
        {
            Assert.Equal(512, a[i].Length);
            Assert.Equal(1f, MathF.Sqrt(a[i].Sum(v => v * v)), 4);
            Assert.Equal(1f, MathF.Sqrt(b[i].Sum(v => v * v)), 4);
            var cos = a[i].Zip(b[i], (x, y) => x * y).Sum();
            Assert.InRange(cos, 0.8f, 0.99999f);   // close to the plain embedding, but not equal: the mirror counts
        }
        Assert.InRange(one.Zip(a[5], (x, y) => x * y).Sum(), 0.9999f, 1.0001f);
    }

    [SharedFact]
    public void DefaultModelFallsBackToTheSharedOsnet()
    {
        var path = ProjectModels.DefaultReidModel;
        Assert.True(File.Exists(path));
    }
}
