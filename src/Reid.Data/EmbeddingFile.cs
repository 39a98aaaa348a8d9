using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using Reid.Core;

namespace Reid.Data;

/// <summary>What an embeddings file says about how it was made.</summary>
public sealed record EmbeddingMetadata(string Model, string? ModelId, bool Flip, bool Normalised = true);

/// <summary>
/// The embeddings file written by <c>reid extract</c>: two files side by side.
/// <list type="bullet">
/// <item><c>NAME.emb</c>: a 24-byte little-endian header — the 8 ASCII bytes <c>REIDEMB1</c>, uint32 version (1),
/// int32 rows, int32 dimension, uint32 flags (bit 0: rows are L2-normalised) — then rows × dimension float32
/// values, little-endian, row after row. In numpy: <c>np.fromfile(f, '&lt;f4', offset=24).reshape(rows, dim)</c>.</item>
/// <item><c>NAME.emb.json</c>: the model, its content id, flip, and one entry per row (path, person_id, camera,
/// sequence, frame, timestamp) in row order.</item>
/// </list>
/// </summary>
public static class EmbeddingFile
{
    public const int HeaderBytes = 24;
    private const uint Version = 1, FlagNormalised = 1;
    private static ReadOnlySpan<byte> Magic => "REIDEMB1"u8;

    public sealed record Contents(EmbeddingMetadata Metadata, IReadOnlyList<ImageRecord> Records, float[][] Embeddings);

    private sealed record Sidecar(string Format, string Model, string? ModelId, bool Flip, int Rows, int Dimension, List<Row> Images);

    private sealed record Row(string Path, int PersonId, string? Camera, int? Sequence, int? Frame, double? Timestamp);


    public static string SidecarPath(string path) => path + ".json";

    public static void Write(string path, IReadOnlyList<ImageRecord> records, IReadOnlyList<float[]> embeddings, EmbeddingMetadata metadata)
    {
        if (records.Count != embeddings.Count) throw new ArgumentException("one record per embedding");
        var dim = embeddings.Count > 0 ? embeddings[0].Length : 0;
        if (embeddings.Any(e => e.Length != dim)) throw new ArgumentException("all embeddings must have one dimension");
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);

        using (var stream = File.Create(path))
        {
            Span<byte> header = stackalloc byte[HeaderBytes];
            Magic.CopyTo(header);
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Version);
            BinaryPrimitives.WriteInt32LittleEndian(header[12..], embeddings.Count);
            BinaryPrimitives.WriteInt32LittleEndian(header[16..], dim);
            BinaryPrimitives.WriteUInt32LittleEndian(header[20..], metadata.Normalised ? FlagNormalised : 0);
            stream.Write(header);
            foreach (var e in embeddings)
            {
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
                stream.Write(MemoryMarshal.AsBytes(e.AsSpan()));
            }
        }
        var sidecar = new Sidecar("reid-embeddings/1", metadata.Model, metadata.ModelId, metadata.Flip, embeddings.Count, dim,
            records.Select(r => new Row(r.Path, r.PersonId, r.Camera, r.Sequence, r.Frame, r.Timestamp)).ToList());
        File.WriteAllText(SidecarPath(path), JsonSerializer.Serialize(sidecar, ReidJson.CompactWithoutNulls) + "\n");
    }

    public static Contents Read(string path)
    {
        if (!File.Exists(path)) throw new ReidException($"embeddings file not found: {path}");
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderBytes || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
            throw new ReidException($"{path}: not a reid embeddings file (no REIDEMB1 header)");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        if (version != Version) throw new ReidException($"{path}: embeddings format version {version} is not supported (expected {Version})");
        var rows = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        var dim = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16));
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(20));
        if (rows < 0 || dim < 0 || HeaderBytes + 4L * rows * dim != bytes.Length)
            throw new ReidException($"{path}: header says {rows} rows of {dim} floats but the file holds {bytes.Length - HeaderBytes} data bytes (truncated?)");

        var embeddings = new float[rows][];
        for (var i = 0; i < rows; i++)
            embeddings[i] = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(HeaderBytes + 4 * i * dim, 4 * dim)).ToArray();

        var sidecarPath = SidecarPath(path);
        if (!File.Exists(sidecarPath)) throw new ReidException($"{path}: its list of images {sidecarPath} is missing");
        Sidecar? sidecar;
        try { sidecar = JsonSerializer.Deserialize<Sidecar>(File.ReadAllText(sidecarPath), ReidJson.CompactWithoutNulls); }
        catch (JsonException e) { throw new ReidException($"{sidecarPath}: not valid JSON ({e.Message})"); }
        if (sidecar?.Images is null || sidecar.Images.Count != rows)
            throw new ReidException($"{sidecarPath}: lists {sidecar?.Images?.Count ?? 0} images but {path} holds {rows} rows");
        var records = sidecar.Images.Select(r => new ImageRecord(r.Path, r.PersonId, r.Camera, r.Sequence, r.Frame, r.Timestamp)).ToList();
        return new Contents(new EmbeddingMetadata(sidecar.Model, sidecar.ModelId, sidecar.Flip, (flags & FlagNormalised) != 0), records, embeddings);
    }
}
