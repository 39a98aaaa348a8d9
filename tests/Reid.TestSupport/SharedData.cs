using Reid.Core;
using Xunit;

namespace Reid.TestSupport;

/// <summary>
/// Paths into ../shared (development data and third-party models). Tests that need them use
/// [SharedFact]/[SharedTheory], which skip with a clear reason when ../shared is absent (a user's clone);
/// CI always has it.
/// </summary>
public static class SharedData
{
    public static string? Root => ProjectPaths.SharedDir;
    public static bool Available => Root is not null;

    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([Root ?? throw new InvalidOperationException("../shared is absent"), .. parts]);

    public static string Market1501Train => Path("data", "market1501", "bounding_box_train");

    /// <summary>The first <paramref name="count"/> training crops of Market-1501 person <paramref name="person"/> ("0002").</summary>
    public static string[] MarketImagesOf(string person, int count) =>
        Directory.EnumerateFiles(Market1501Train, $"{person}_*.jpg").Order().Take(count).ToArray();
    public static string HoldoutV1 => Path("data", "market1501", "splits", "holdout-v1");
    public static string OsnetMsmt17 => Path("models", "osnet_x0_25_msmt17.onnx");
    public static string YoloxNano => Path("models", "yolox_nano.onnx");
    public static string TudStadtmitte => Path("data", "tud-stadtmitte");
    public static string Mot17Mini => Path("data", "mot17-mini");
    public static string Video => Path("data", "videos", "one-by-one-person-detection.mp4");

    public const string SkipReason = "needs ../shared (development data and models beside the repository); absent here";
}

/// <summary>A fact that needs ../shared: skipped with a clear reason when it is absent.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute() { if (!SharedData.Available) Skip = SharedData.SkipReason; }
}

/// <summary>A theory that needs ../shared: skipped with a clear reason when it is absent.</summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    public SharedTheoryAttribute() { if (!SharedData.Available) Skip = SharedData.SkipReason; }
}

/// <summary>A temporary folder deleted when disposed.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("reid-test-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
