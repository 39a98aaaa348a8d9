using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Optim;
using Reid.Engine.Tensors;
using Reid.Inference;
using Reid.TestSupport;
using Reid.Training.Backbones;
using Reid.Training.Export;
using Reid.Training.Import;
using Tensor = Reid.Engine.Tensors.Tensor;

namespace Reid.Training.Tests.Onnx;

/// <summary>The engine and ONNX Runtime give the same outputs for an exported (or imported) model.</summary>
public class ParityTests
{
    private const float Tolerance = 1e-4f;
    private static readonly SessionOptions OneThread = new(IntraOpThreads: 1);

    private static float[] Engine(Module model, float[] input, int n, int h, int w)
    {
        model.Eval();
        using var scope = new TensorScope();
        using var _ = Tape.NoGrad();
        var x = Tensor.FromArray(input, n, 3, h, w);
        return model.Forward(x).ToArray();
    }

    private static float[] Runtime(string onnxPath, float[] input, int n, int h, int w, out long[] shape)
    {
        using var session = InferenceSession.Open(onnxPath, OneThread);
        return session.Run(input, [n, 3, h, w], out shape);
    }

    private static float[] Input(int n, int h, int w, ulong seed)
    {
        using var t = Tensor.RandomNormal(new Rng(seed), 0, 1, n, 3, h, w);
        return t.ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        Assert.True(scale > 1e-3f, $"{what}: outputs are all ~0, the comparison would prove nothing");
        Assert.True(worst < Tolerance, $"{what}: max abs difference {worst:E2} (largest value {scale:F3})");
    }

    private static ReidModel Build(ModelConfig config, ulong seed)
    {
        var previous = Rng.Shared;
        Rng.Shared = new Rng(seed);
        try { return new ReidModel(config); }
        finally { Rng.Shared = previous; }
    }

    [Theory]
    [InlineData("osnet_x0_25", "Avg", 0, 0)]
    [InlineData("osnet_x0_25", "Gem", 0, 0)]
    [InlineData("resnet18", "Gem", 96, 0)]
    [InlineData("mobilenetv2", "Avg", 0, 0)]
    [InlineData("osnet_x0_25", "Avg", 0, 2)]
    [InlineData("resnet18", "Gem", 96, 3)]   // a 4-row map: stripes of 1, 1 and 2 rows
    public void RandomlyInitialisedModelMatchesOnnxRuntime(string backbone, string pooling, int embedding, int parts)
    {
        const int n = 3, h = 64, w = 32;
        var model = Build(new ModelConfig
        {
            Backbone = backbone, Pooling = Enum.Parse<Pooling>(pooling), EmbeddingDim = embedding, Classes = 7,
            Parts = parts, PartEmbeddingDim = 24,
        }, 11);
        ExportImportTests.Perturb(model, 3);
        using var dir = new TempDir();
        var path = dir.File("m.onnx");
        OnnxExporter.Save(model, path, new ExportOptions { Height = h, Width = w });
        var input = Input(n, h, w, 5);
        var ours = Engine(model, input, n, h, w);
        var theirs = Runtime(path, input, n, h, w, out var shape);
        Assert.Equal([n, model.EmbeddingDim], shape);
        AssertClose(theirs, ours, backbone);
    }

    [Fact]
    public void BrieflyTrainedModelMatchesOnnxRuntime()
    {
        const int n = 8, h = 64, w = 32, classes = 4;
        var model = Build(new ModelConfig { Backbone = "osnet_x0_25", Classes = classes }, 21);
        var opt = new AdamW(ParameterGroups.Build(ModelParameters.Of(model), 1e-3, 1e-2, 5e-4, [ReidModel.HeadPrefix]));
        var rng = new Rng(9);
        var images = Input(n, h, w, 13);
        var oneHot = new float[n * classes];
        for (int i = 0; i < n; i++) oneHot[i * classes + i % classes] = 1;
        model.Train();
        float first = 0, last = 0;
        for (int step = 0; step < 5; step++)
        {
            using var scope = new TensorScope();
            var x = Tensor.FromArray(images, n, 3, h, w);
            var (_, logits) = model.ForwardTrain(x);
            var loss = Ops.Scale(Ops.Sum(Ops.Mul(Ops.LogSoftmax(logits), Tensor.FromArray(oneHot, n, classes))), -1f / n);
            if (step == 0) first = loss.Item();
            last = loss.Item();
            loss.Backward();
            opt.Step();
            model.ZeroGrad();
        }
        Assert.True(last < first, $"loss did not fall ({first} → {last})");

        using var dir = new TempDir();
        var path = dir.File("trained.onnx");
        OnnxExporter.Save(model, path, new ExportOptions { Height = h, Width = w });
        var input = Input(3, h, w, 17);
        AssertClose(Runtime(path, input, 3, h, w, out _), Engine(model, input, 3, h, w), "trained osnet_x0_25");

        // The Embedder reads the preprocessing the exporter wrote.
        using var embedder = Embedder.Open(path, EmbedderOptions.Default);
        Assert.Equal("metadata", embedder.PreprocessingSource);
        Assert.Equal((h, w), (embedder.Preprocessing.Height, embedder.Preprocessing.Width));
    }

    [SharedFact]
    public void ImportedSharedOsnetGivesOnnxRuntimesEmbeddings()
    {
        const int n = 2, h = 256, w = 128;
        var net = new OSNet(0.25);
        OnnxWeightImporter.Import(SharedData.OsnetMsmt17, net);
        var input = Input(n, h, w, 23);
        AssertClose(Runtime(SharedData.OsnetMsmt17, input, n, h, w, out var shape), Engine(net, input, n, h, w), "shared OSNet x0.25");
        Assert.Equal([n, 512], shape);
    }
}
