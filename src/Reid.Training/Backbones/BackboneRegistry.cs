using Reid.Core;
using Reid.Engine.Modules;

namespace Reid.Training.Backbones;

/// <summary>
/// Every backbone by the name recipes, CLI options and model ids use, with its constructor and its usual last
/// stride: the one place a new backbone is added (as torchreid's model factory).
/// </summary>
public static class BackboneRegistry
{
    private sealed record Entry(Func<int, float?, Module> Create, int UsualLastStride);

    // The usual last stride: 1 for ResNet and MobileNetV2 (Luo et al. 2019's ReID choice), 2 for OSNet (torchreid,
    // where conv3's average pool down-samples). gemP is OSNet's own pooling (it pools inside the backbone).
    private static readonly (string Name, Entry Entry)[] Table =
    [
        ("resnet18", new((s, _) => new ResNet(18, s), 1)),
        ("resnet34", new((s, _) => new ResNet(34, s), 1)),
        ("resnet50", new((s, _) => new ResNet(50, s), 1)),
        ("osnet_x0_25", new((s, p) => new OSNet(0.25, gemP: p, lastStride: s), 2)),
        ("osnet_x0_5", new((s, p) => new OSNet(0.5, gemP: p, lastStride: s), 2)),
        ("osnet_x0_75", new((s, p) => new OSNet(0.75, gemP: p, lastStride: s), 2)),
        ("osnet_x1_0", new((s, p) => new OSNet(1.0, gemP: p, lastStride: s), 2)),
        ("mobilenet_v2", new((s, _) => new MobileNetV2(1.0, s), 1)),
    ];

    /// <summary>The known names, in the order above.</summary>
    public static IReadOnlyList<string> Names { get; } = Table.Select(t => t.Name).ToArray();

    // Earlier model ids and CLI examples wrote MobileNetV2 without the underscore; such files and commands still work.
    private static readonly Dictionary<string, string> OldSpellings = new() { ["mobilenetv2"] = "mobilenet_v2" };

    /// <summary>The registry's spelling of <paramref name="name"/> (an old spelling becomes the current one).</summary>
    public static string Canonical(string name) => OldSpellings.GetValueOrDefault(name, name);

    public static bool IsKnown(string name) => Table.Any(t => t.Name == Canonical(name));

    /// <summary>"unknown backbone 'x' (known: …)" — the one wording every caller uses.</summary>
    public static string Unknown(string name) => $"unknown backbone '{name}' (known: {string.Join(", ", Names)})";

    public static int UsualLastStride(string name) => Find(name).UsualLastStride;

    /// <param name="gemP">GeM exponent for backbones that pool themselves (OSNet); null = average pooling</param>
    public static Module Create(string name, int lastStride, float? gemP) => Find(name).Create(lastStride, gemP);

    private static Entry Find(string name) =>
        Table.FirstOrDefault(t => t.Name == Canonical(name)).Entry ?? throw new ReidException(Unknown(name));
}
