using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Engine.Tensors;

namespace Reid.Engine.Checkpoints;

/// <summary>What a <see cref="TensorArchive"/> holds: named tensors plus a JSON object of plain values.</summary>
public sealed class ArchiveContent
{
    public required string Kind { get; init; }
    public IReadOnlyList<NamedTensor> Tensors { get; init; } = [];
    public JsonObject Values { get; init; } = [];
}

/// <summary>
/// The project's safe tensor file format (checkpoints). Nothing in it is ever deserialised into arbitrary
/// types: it is a JSON header of names, shapes and offsets, then raw little-endian float32 data.
/// <code>
///   0      8 bytes  magic "REIDTNSR"
///   8      uint32   format version (1)
///   12     uint32   header length H in bytes
///   16     H bytes  UTF-8 JSON: {"kind":…, "tensors":[{"name","shape","offset","count"}…], "values":{…}}
///   …      zero padding so the data starts on a 64-byte boundary
///   data   float32 little-endian; a tensor's offset counts floats from the data start
///   end-32 SHA-256 of every byte before it
/// </code>
/// Writes are atomic (temporary file in the same folder, flushed, then renamed over the target), so an
/// interrupted save leaves the previous file intact.
/// </summary>
public static class TensorArchive
{
    public const int FormatVersion = 1;
    private static readonly byte[] Magic = "REIDTNSR"u8.ToArray();
    private const int PrefixBytes = 16, ChecksumBytes = 32, DataAlignment = 64;
    private const int MaxHeaderBytes = 64 << 20;

    public static void Write(string path, ArchiveContent content)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("tensor archives assume a little-endian CPU");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var entries = new JsonArray();
        long offset = 0;
        foreach (var t in content.Tensors)
        {
            if (!seen.Add(t.Name)) throw new ArgumentException($"tensor '{t.Name}' appears twice");
            if (NamedTensor.Count(t.Shape) != t.Data.Length)
                throw new ArgumentException($"tensor '{t.Name}': shape {t.ShapeText} does not match {t.Data.Length} values");
            entries.Add(new JsonObject
            {
                ["name"] = t.Name,
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["offset"] = offset,
                ["count"] = t.Data.Length,
            });
            offset += t.Data.Length;
        }
        var header = new JsonObject
        {
            ["kind"] = content.Kind,
            ["tensors"] = entries,
            ["values"] = content.Values.DeepClone(),
        };
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padding = (int)((DataAlignment - (PrefixBytes + headerBytes.Length) % DataAlignment) % DataAlignment);

        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                void Put(ReadOnlySpan<byte> bytes) { file.Write(bytes); hash.AppendData(bytes); }
                Put(Magic);
                Span<byte> ints = stackalloc byte[8];
                BinaryPrimitives.WriteUInt32LittleEndian(ints, FormatVersion);
                BinaryPrimitives.WriteUInt32LittleEndian(ints[4..], (uint)headerBytes.Length);
                Put(ints);
                Put(headerBytes);
                Put(new byte[padding]);
                foreach (var t in content.Tensors)
                    for (int start = 0; start < t.Data.Length; start += 1 << 18)
                        Put(MemoryMarshal.AsBytes(t.Data.AsSpan(start, Math.Min(1 << 18, t.Data.Length - start))));
                file.Write(hash.GetHashAndReset());
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    public static ArchiveContent Read(string path)
    {
        if (!File.Exists(path)) throw new ReidException($"{path}: file not found");
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        long length = file.Length;
        if (length < PrefixBytes + ChecksumBytes) throw Bad(path, $"truncated ({length} bytes) or not a tensor archive");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        var prefix = new byte[PrefixBytes];
        file.ReadExactly(prefix);
        hash.AppendData(prefix);
        if (!prefix.AsSpan(0, 8).SequenceEqual(Magic)) throw Bad(path, "not a reid tensor archive (bad magic bytes)");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(prefix.AsSpan(8));
        if (version != FormatVersion) throw Bad(path, $"format version {version} is not supported (this build reads {FormatVersion})");
        var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix.AsSpan(12));
        if (headerLength > MaxHeaderBytes || PrefixBytes + headerLength + ChecksumBytes > length)
            throw Bad(path, "truncated or corrupt header");

        var headerBytes = new byte[headerLength];
        file.ReadExactly(headerBytes);
        hash.AppendData(headerBytes);
        long dataStart = PrefixBytes + headerLength;
        dataStart += (DataAlignment - dataStart % DataAlignment) % DataAlignment;
        long dataBytes = length - ChecksumBytes - dataStart;
        if (dataBytes < 0) throw Bad(path, "truncated (no room for the data)");

        JsonObject header;
        try { header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw new JsonException("empty"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        { throw Bad(path, $"corrupt header ({e.Message})"); }

        var entries = ParseEntries(path, header, dataBytes / sizeof(float));
        if (entries.Sum(e => e.Count) * sizeof(float) != dataBytes)
            throw Bad(path, $"truncated or padded: the header lists {entries.Sum(e => e.Count) * sizeof(float)} data bytes, the file holds {dataBytes}");

        var pad = new byte[dataStart - PrefixBytes - headerLength];
        file.ReadExactly(pad);
        hash.AppendData(pad);
        var tensors = new List<NamedTensor>(entries.Count);
        foreach (var e in entries.OrderBy(e => e.Offset))
        {
            var data = new float[e.Count];
            var bytes = MemoryMarshal.AsBytes(data.AsSpan());
            file.ReadExactly(bytes);
            hash.AppendData(bytes);
            tensors.Add(new NamedTensor(e.Name, e.Shape, data));
        }
        var stored = new byte[ChecksumBytes];
        file.ReadExactly(stored);
        if (!stored.AsSpan().SequenceEqual(hash.GetHashAndReset()))
            throw Bad(path, "corrupt: checksum mismatch (the file was damaged or partly written)");

        var byName = tensors.ToDictionary(t => t.Name);
        return new ArchiveContent
        {
            Kind = header["kind"] is null ? "" : JsonFields.Value<string>(header, "kind", path),
            Tensors = entries.Select(e => byName[e.Name]).ToList(),
            Values = header["values"] as JsonObject ?? [],
        };
    }

    private sealed record Entry(string Name, int[] Shape, long Offset, int Count);

    private static List<Entry> ParseEntries(string path, JsonObject header, long floatsAvailable)
    {
        if (header["tensors"] is not JsonArray array) throw Bad(path, "corrupt header (no tensor list)");
        var list = new List<Entry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        long expectedOffset = 0;
        for (var i = 0; i < array.Count; i++)
        {
            var where = $"{path}: corrupt tensor list, entry {i}";
            var o = JsonFields.Object(array[i], "the entry", where);
            var name = JsonFields.Value<string>(o, "name", where);
            var shape = JsonFields.Array(o["shape"], "'shape'", where).Select((d, k) => JsonFields.Value<int>(d, $"shape[{k}]", where)).ToArray();
            var offset = JsonFields.Value<long>(o, "offset", where);
            var count = JsonFields.Value<long>(o, "count", where);
            if (!names.Add(name)) throw Bad(path, $"tensor '{name}' listed twice");
            if (shape.Any(d => d < 0) || NamedTensor.Count(shape) != count || count > int.MaxValue)
                throw Bad(path, $"tensor '{name}': shape [{string.Join("x", shape)}] does not match its {count} values");
            if (offset != expectedOffset || offset + count > floatsAvailable)
                throw Bad(path, $"tensor '{name}' lies outside the data (offset {offset}, {count} values; truncated?)");
            expectedOffset += count;
            list.Add(new Entry(name, shape, offset, (int)count));
        }
        return list;
    }

    private static ReidException Bad(string path, string what) => new($"{path}: {what}");
}
