using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Reid.Core;

namespace Reid.Data;

/// <summary>What <see cref="CropStoreBenchmark"/> measures and where it writes.</summary>
public sealed record CropStoreBenchmarkOptions
{
    /// <summary>Crops packed into the store.</summary>
    public int Crops { get; init; } = 1_000_000;

    /// <summary>Crops written as loose files for comparison; 0 skips that part.</summary>
    public int Loose { get; init; } = 100_000;

    /// <summary>Where crops.db and loose/ are written (both must not exist yet).</summary>
    public required string Dir { get; init; }

    /// <summary>The JPEG payloads, cycled (real person crops, so sizes are realistic).</summary>
    public required IReadOnlyList<byte[]> Payload { get; init; }

    /// <summary>Random reads timed per thread count.</summary>
    public int Reads { get; init; } = 20_000;

    /// <summary>Crops per AddSource call (one mined video) and per loose-file folder.</summary>
    public int PerSource { get; init; } = 10_000;

    public int Seed { get; init; } = 1;

    /// <summary>Leave the store and the loose files in Dir; otherwise they are deleted (also after a failure).</summary>
    public bool Keep { get; init; }
}

/// <summary>Random-read figures: latency percentiles in µs and reads per second over the wall clock.</summary>
public sealed record ReadFigures(int Threads, int Reads, double P50Us, double P95Us, double P99Us, double ReadsPerS);

public sealed record StoreFigures(
    int Crops, double InsertSeconds, double InsertCropsPerS, long FileBytes, double BytesPerCrop, long PayloadBytes,
    double OpenMs, double IdsMs, int IdsCount, double CountMs, int Count, long PeakWorkingSetBytesAfterIds,
    IReadOnlyList<ReadFigures> RandomReads);

public sealed record LooseFigures(
    int Crops, int Folders, double WriteSeconds, double WriteFilesPerS, long FileBytes, long DuBytes, double BytesOnDiskPerCrop,
    double EnumerateMs, int EnumeratedCount, IReadOnlyList<ReadFigures> RandomReads);

public sealed record CropStoreBenchmarkResult(StoreFigures Store, LooseFigures? Loose, double PayloadMeanBytes);

/// <summary>
/// Issue #19's "a million crops in one packed store, not a million loose files", measured: fills a fresh
/// <see cref="CropStore"/> through its public API as mining does (one AddSource per video of PerSource crops), then
/// times reopening, Ids(), Count and random ReadJpeg on 1 and 2 threads; the same for loose files (one folder per
/// PerSource crops, `NumFrame_BB.jpg`-style names). Files just written are in the page cache: the reads are warm.
/// </summary>
public static class CropStoreBenchmark
{
    public const string StoreFile = "crops.db";
    public const string LooseFolder = "loose";

    public static CropStoreBenchmarkResult Run(CropStoreBenchmarkOptions o, Action<string>? log = null)
    {
        if (o.Crops < 1) throw new ReidException("--crops must be at least 1");
        if (o.Loose < 0) throw new ReidException("--loose must be 0 or more");
        if (o.Payload.Count == 0) throw new ReidException("no JPEG payload to write");
        Directory.CreateDirectory(o.Dir);
        var storePath = Path.Combine(o.Dir, StoreFile);
        var loosePath = Path.Combine(o.Dir, LooseFolder);
        if (File.Exists(storePath) || Directory.Exists(loosePath))
            throw new ReidException($"{o.Dir} already holds {StoreFile} or {LooseFolder}/ (from an earlier run?); choose an empty --dir");
        try
        {
            var store = MeasureStore(o, storePath, log);
            var loose = o.Loose > 0 ? MeasureLoose(o, loosePath, log) : null;
            return new CropStoreBenchmarkResult(store, loose, o.Payload.Average(p => (double)p.Length));
        }
        finally
        {
            if (!o.Keep) Clean(o.Dir);
        }
    }

    /// <summary>Deletes what <see cref="Run"/> wrote in <paramref name="dir"/>, and the folder itself when that leaves it empty.</summary>
    private static void Clean(string dir)
    {
        SqliteConnection.ClearAllPools();
        foreach (var f in new[] { StoreFile, StoreFile + "-wal", StoreFile + "-shm" })
            if (File.Exists(Path.Combine(dir, f))) File.Delete(Path.Combine(dir, f));
        if (Directory.Exists(Path.Combine(dir, LooseFolder))) Directory.Delete(Path.Combine(dir, LooseFolder), recursive: true);
        if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);
    }

    /// <summary>The origin of crop <paramref name="i"/>: PerSource crops per fake video, tracks of 50 frames, boxes varying.</summary>
    private static CropOrigin OriginOf(int i, int perSource)
    {
        var video = i / perSource;
        var k = i % perSource;
        var box = string.Create(CultureInfo.InvariantCulture, $"{(k * 37) % 1800},{(k * 11) % 900},{60 + k % 80},{150 + k % 200}");
        return new CropOrigin(SourceOf(video), k / 50, (long)k / 50 * 3 + k % 50 * 5, box);
    }

    private static string SourceOf(int video) => $"bench/video-{video:D6}.mp4";

    private static StoreFigures MeasureStore(CropStoreBenchmarkOptions o, string path, Action<string>? log)
    {
        long payloadBytes = 0;
        var clock = Stopwatch.StartNew();
        var nextReport = 0.05;
        using (var store = CropStore.OpenOrCreate(path))
        {
            for (int start = 0; start < o.Crops; start += o.PerSource)
            {
                var end = Math.Min(o.Crops, start + o.PerSource);
                store.AddSource(SourceOf(start / o.PerSource), end - start, Enumerable.Range(start, end - start).Select(i =>
                {
                    var jpeg = o.Payload[i % o.Payload.Count];
                    payloadBytes += jpeg.Length;
                    return (OriginOf(i, o.PerSource), jpeg);
                }));
                var done = (double)end / o.Crops;
                if (done >= nextReport || end == o.Crops)
                {
                    log?.Invoke($"store: {end:N0}/{o.Crops:N0} crops ({done:P0}) {end / clock.Elapsed.TotalSeconds:N0} crops/s");
                    while (nextReport <= done) nextReport += 0.05;
                }
            }
        }
        var insertSeconds = clock.Elapsed.TotalSeconds;
        SqliteConnection.ClearAllPools();
        // the main file; a WAL left beside it (checkpointed on close, normally gone) counts too
        var fileBytes = new[] { "", "-wal", "-shm" }.Select(s => new FileInfo(path + s)).Where(f => f.Exists).Sum(f => f.Length);

        clock.Restart();
        using var reopened = CropStore.Open(path);
        var openMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var ids = reopened.Ids();
        var idsMs = clock.Elapsed.TotalMilliseconds;
        var peak = Process.GetCurrentProcess().PeakWorkingSet64;
        clock.Restart();
        var count = reopened.Count;
        var countMs = clock.Elapsed.TotalMilliseconds;
        log?.Invoke($"store: reopened, Ids() {ids.Count:N0} in {idsMs:N0} ms; random reads");
        var reads = new[] { 1, 2 }.Select(threads => RandomReads(threads, o.Reads, ids.Count, o.Seed + threads,
            i => reopened.ReadJpeg(ids[i]).Length)).ToList();
        return new StoreFigures(o.Crops, insertSeconds, o.Crops / insertSeconds, fileBytes, (double)fileBytes / o.Crops, payloadBytes,
            openMs, idsMs, ids.Count, countMs, count, peak, reads);
    }

    private static LooseFigures MeasureLoose(CropStoreBenchmarkOptions o, string root, Action<string>? log)
    {
        var clock = Stopwatch.StartNew();
        var nextReport = 0.05;
        long bytes = 0, onDisk = 0;
        var folders = 0;
        string? folder = null;
        for (int i = 0; i < o.Loose; i++)
        {
            if (i % o.PerSource == 0)
            {
                folder = Path.Combine(root, $"video-{i / o.PerSource:D6}");
                Directory.CreateDirectory(folder);
                folders++;
            }
            var jpeg = o.Payload[i % o.Payload.Count];
            File.WriteAllBytes(Path.Combine(folder!, OriginOf(i, o.PerSource).Name), jpeg);
            bytes += jpeg.Length;
            onDisk += (jpeg.Length + 4095L) / 4096 * 4096;
            var done = (double)(i + 1) / o.Loose;
            if (done >= nextReport)
            {
                log?.Invoke($"loose: {i + 1:N0}/{o.Loose:N0} files ({done:P0}) {(i + 1) / clock.Elapsed.TotalSeconds:N0} files/s");
                while (nextReport <= done) nextReport += 0.05;
            }
        }
        var writeSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToList();
        var enumerateMs = clock.Elapsed.TotalMilliseconds;
        log?.Invoke($"loose: enumerated {files.Count:N0} files in {enumerateMs:N0} ms; random reads");
        var reads = new[] { 1, 2 }.Select(threads => RandomReads(threads, o.Reads, files.Count, o.Seed + 10 + threads,
            i => File.ReadAllBytes(files[i]).Length)).ToList();
        return new LooseFigures(o.Loose, folders, writeSeconds, o.Loose / writeSeconds, bytes, onDisk, (double)onDisk / o.Loose,
            enumerateMs, files.Count, reads);
    }

    /// <summary><paramref name="reads"/> reads of random indices below <paramref name="n"/>, split over <paramref name="threads"/> threads.</summary>
    private static ReadFigures RandomReads(int threads, int reads, int n, int seed, Func<int, int> read)
    {
        var latencies = new double[reads];
        var perThread = (reads + threads - 1) / threads;
        var wall = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(t => Task.Factory.StartNew(() =>
        {
            var rng = new Random(seed * 7919 + t);
            for (int k = t * perThread; k < Math.Min(reads, (t + 1) * perThread); k++)
            {
                var index = rng.Next(n);
                var start = Stopwatch.GetTimestamp();
                if (read(index) <= 0) throw new ReidException($"empty crop at index {index}");
                latencies[k] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        try { Task.WaitAll(workers); }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]); }
        var seconds = wall.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new ReadFigures(threads, reads, Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99),
            reads / seconds);
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)], 1);
}
