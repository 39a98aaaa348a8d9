using Reid.Core;
using Reid.Engine.Checkpoints;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Optim;
using Reid.Engine.Tensors;
using Reid.TestSupport;

namespace Reid.Engine.Tests.Checkpoints;

public class CheckpointTests
{
    /// <summary>A module with a weight, a decay-free bias, a buffer and a child, built from the engine's Module.</summary>
    private sealed class Toy : Module
    {
        public Toy(int width, bool withExtra = false, int seed = 1)
        {
            var rng = new Rng((ulong)seed);
            AddParameter("weight", Tensor.RandomNormal(rng, 0, 1, width, 3));
            AddParameter("bias", Tensor.RandomNormal(rng, 0, 1, width), weightDecay: false);
            AddBuffer("running_mean", Tensor.RandomNormal(rng, 0, 1, width));
            AddModule("head", new Leaf(seed));
            if (withExtra) AddParameter("extra", Tensor.Zeros(2));
        }

        public override Tensor Forward(Tensor input) => input;
    }

    private sealed class Leaf : Module
    {
        public Leaf(int seed) => AddParameter("scale", Tensor.RandomNormal(new Rng((ulong)seed + 100), 0, 1, 4));
        public override Tensor Forward(Tensor input) => input;
    }

    private static void FakeGradients(Module m, float value)
    {
        foreach (var p in m.Parameters()) { p.Grad = Tensor.Full(value, p.ShapeArray()); }
    }

    private static Dictionary<string, float[]> Values(Module m) => m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());

    [Fact]
    public void ResumedRunContinuesExactlyAsTheUninterruptedOne()
    {
        using var dir = new TempDir();
        var path = dir.File("run.ckpt");
        var a = new Toy(5, seed: 1);
        var optA = new AdamW(ParameterGroups.Build(ModelParameters.Of(a), 0.01, 0.1, 5e-4, ["head."]), schedule: new WarmupCosineSchedule(2, 10));
        var rngA = new Rng(42);
        FakeGradients(a, 0.3f); optA.Step(); rngA.NextUInt64();
        Checkpoint.Save(path, "toy", a, optA, epoch: 3, rng: rngA, extra: new() { ["best_map"] = 0.5 });

        var b = new Toy(5, seed: 99);
        var optB = new AdamW(ParameterGroups.Build(ModelParameters.Of(b), 0.01, 0.1, 5e-4, ["head."]), schedule: new WarmupCosineSchedule(2, 10));
        var rngB = new Rng(7);
        var info = Checkpoint.Load(path, "toy", b, optB, rngB);
        Assert.Equal(3, info.Epoch);
        Assert.Equal(1, info.OptimizerStep);
        Assert.Equal(0.5, info.Extra["best_map"]!.GetValue<double>());
        Assert.Equal(rngA.NextUInt64(), rngB.NextUInt64());
        Assert.Equal(Values(a), Values(b));

        FakeGradients(a, -0.2f); optA.Step();
        FakeGradients(b, -0.2f); optB.Step();
        Assert.Equal(Values(a), Values(b));
        Assert.Equal(optA.LearningRate(optA.Groups[0]), optB.LearningRate(optB.Groups[0]));
    }

    [Fact]
    public void OtherArchitectureIsRefusedByName()
    {
        using var dir = new TempDir();
        var path = dir.File("a.ckpt");
        Checkpoint.Save(path, "resnet50", new Toy(5));
        var e = Assert.Throws<ReidException>(() => Checkpoint.Load(path, "osnet_x0_25", new Toy(5)));
        Assert.Contains(path, e.Message);
        Assert.Contains("resnet50", e.Message);
    }

    [Fact]
    public void WrongShapeNamesTheTensorAndLeavesTheModelUntouched()
    {
        using var dir = new TempDir();
        var path = dir.File("a.ckpt");
        Checkpoint.Save(path, "toy", new Toy(5));
        var target = new Toy(6, seed: 3);
        var before = Values(target);
        var e = Assert.Throws<ReidException>(() => Checkpoint.Load(path, "toy", target));
        Assert.Contains("'weight'", e.Message);
        Assert.Contains("[5x3]", e.Message);
        Assert.Equal(before, Values(target));
    }

    [Fact]
    public void MissingAndExtraTensorsAreNamed()
    {
        using var dir = new TempDir();
        var path = dir.File("a.ckpt");
        Checkpoint.Save(path, "toy", new Toy(5));
        Assert.Contains("'extra' is missing", Assert.Throws<ReidException>(() => Checkpoint.Load(path, "toy", new Toy(5, withExtra: true))).Message);

        Checkpoint.Save(path, "toy", new Toy(5, withExtra: true));
        Assert.Contains("'extra' in the checkpoint does not exist", Assert.Throws<ReidException>(() => Checkpoint.Load(path, "toy", new Toy(5))).Message);
    }

    [Fact]
    public void OptimiserMismatchIsRefused()
    {
        using var dir = new TempDir();
        var path = dir.File("a.ckpt");
        var m = new Toy(5);
        Checkpoint.Save(path, "toy", m);
        Assert.Contains("no optimiser state", Assert.Throws<ReidException>(() =>
            Checkpoint.Load(path, "toy", m, new Sgd([new ParameterGroup("all", ModelParameters.Of(m), 0.1)]))).Message);

        Checkpoint.Save(path, "toy", m, new AdamW([new ParameterGroup("all", ModelParameters.Of(m), 0.1)]));
        Assert.Contains("'adamw'", Assert.Throws<ReidException>(() =>
            Checkpoint.Load(path, "toy", m, new Sgd([new ParameterGroup("all", ModelParameters.Of(m), 0.1)]))).Message);
    }

    [Fact]
    public void CorruptCheckpointIsRefusedAndTheModelKept()
    {
        using var dir = new TempDir();
        var path = dir.File("a.ckpt");
        Checkpoint.Save(path, "toy", new Toy(5));
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2 + 60] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        var target = new Toy(5, seed: 8);
        var before = Values(target);
        Assert.Throws<ReidException>(() => Checkpoint.Load(path, "toy", target));
        Assert.Equal(before, Values(target));
    }

    [Fact]
    public void OtherArchiveKindIsNotACheckpoint()
    {
        using var dir = new TempDir();
        var path = dir.File("weights.bin");
        TensorArchive.Write(path, new ArchiveContent { Kind = "something-else" });
        Assert.Contains("not a training checkpoint", Assert.Throws<ReidException>(() => Checkpoint.Load(path, "toy", new Toy(5))).Message);
    }
}
