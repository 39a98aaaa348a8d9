using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Engine.Checkpoints;
using Reid.Engine.Tensors;
using Reid.TestSupport;

namespace Reid.Engine.Tests.Checkpoints;

public class TensorArchiveTests
{
    private static ArchiveContent Sample(float seed = 1) => new()
    {
        Kind = "test",
        Tensors =
        [
            new NamedTensor("conv.weight", [2, 3, 1, 1], Enumerable.Range(0, 6).Select(i => seed * i - 2.5f).ToArray()),
            new NamedTensor("bn.running_var", [5], [1, 2, 3, 4, float.Epsilon]),
            new NamedTensor("empty", [0], []),
        ],
        Values = new JsonObject { ["epoch"] = 7, ["rng"] = new JsonArray("123", "456") },
    };

    [Fact]
    public void RoundTripKeepsNamesShapesValuesAndBits()
    {
        using var dir = new TempDir();
        var path = dir.File("a.ckpt");
        TensorArchive.Write(path, Sample());
        var back = TensorArchive.Read(path);
        Assert.Equal("test", back.Kind);
        Assert.Equal(7, back.Values["epoch"]!.GetValue<int>());
        Assert.Equal("456", back.Values["rng"]![1]!.GetValue<string>());
        var expected = Sample().Tensors;
        Assert.Equal(expected.Count, back.Tensors.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Name, back.Tensors[i].Name);
            Assert.Equal(expected[i].Shape, back.Tensors[i].Shape);
            Assert.Equal(expected[i].Data, back.Tensors[i].Data);
        }
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void DataStartsAlignedAndIsLittleEndianFloat32()
    {
        using var dir = new TempDir();
        var path = dir.File("a.ckpt");
        TensorArchive.Write(path, Sample());
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("REIDTNSR", System.Text.Encoding.ASCII.GetString(bytes, 0, 8));
        var headerLength = BitConverter.ToInt32(bytes, 12);
        var dataStart = (16 + headerLength + 63) / 64 * 64;
        Assert.Equal(-2.5f, BitConverter.ToSingle(bytes, dataStart));
        Assert.Equal(dataStart + 11 * 4 + 32, bytes.Length);
    }

    [Fact]
    public void FlippedDataByteIsReportedAsCorrupt()
    {
        using var dir = new TempDir();
        var path = dir.File("a.ckpt");
        TensorArchive.Write(path, Sample());
        var bytes = File.ReadAllBytes(path);
        bytes[^40] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ReidException>(() => TensorArchive.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("checksum", e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(100)]
    public void TruncatedFileIsReportedNotCrashed(int keep)
    {
        using var dir = new TempDir();
        var path = dir.File("a.ckpt");
        TensorArchive.Write(path, Sample());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..Math.Min(keep, bytes.Length - 1)]);
        var e = Assert.Throws<ReidException>(() => TensorArchive.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ShorterByOneTensorIsTruncatedNotMisread()
    {
        using var dir = new TempDir();
        var path = dir.File("a.ckpt");
        TensorArchive.Write(path, Sample());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^36]);
        var e = Assert.Throws<ReidException>(() => TensorArchive.Read(path));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void OtherFilesAreRejectedByMagicAndVersion()
    {
        using var dir = new TempDir();
        var path = dir.File("x.onnx");
        File.WriteAllBytes(path, new byte[200]);
        Assert.Contains("magic", Assert.Throws<ReidException>(() => TensorArchive.Read(path)).Message);

        TensorArchive.Write(path, Sample());
        var bytes = File.ReadAllBytes(path);
        bytes[8] = 9;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("version 9", Assert.Throws<ReidException>(() => TensorArchive.Read(path)).Message);
        Assert.Contains("not found", Assert.Throws<ReidException>(() => TensorArchive.Read(dir.File("none"))).Message);
    }

    [Fact]
    public void GarbageHeaderIsReportedAsCorrupt()
    {
        using var dir = new TempDir();
        var path = dir.File("a.ckpt");
        TensorArchive.Write(path, Sample());
        var bytes = File.ReadAllBytes(path);
        bytes[16] = (byte)'#';
        File.WriteAllBytes(path, bytes);
        Assert.Contains("corrupt header", Assert.Throws<ReidException>(() => TensorArchive.Read(path)).Message);
    }

    [Fact]
    public void FailedSaveLeavesThePreviousFileIntact()
    {
        using var dir = new TempDir();
        var path = dir.File("a.ckpt");
        TensorArchive.Write(path, Sample(seed: 1));
        var failing = new ArchiveContent { Kind = "test", Tensors = new FailsWhileWriting(Sample(seed: 2).Tensors) };
        Assert.Throws<IOException>(() => TensorArchive.Write(path, failing));
        Assert.Equal(Sample(seed: 1).Tensors[0].Data, TensorArchive.Read(path).Tensors[0].Data);
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    /// <summary>Enumerates normally once (the header pass), then fails half-way through the data pass.</summary>
    private sealed class FailsWhileWriting(IReadOnlyList<NamedTensor> inner) : IReadOnlyList<NamedTensor>
    {
        private int _passes;
        public NamedTensor this[int index] => inner[index];
        public int Count => inner.Count;
        public IEnumerator<NamedTensor> GetEnumerator()
        {
            var pass = ++_passes;
            for (int i = 0; i < inner.Count; i++)
            {
                if (pass > 1 && i == 1) throw new IOException("disk full (simulated)");
                yield return inner[i];
            }
        }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
