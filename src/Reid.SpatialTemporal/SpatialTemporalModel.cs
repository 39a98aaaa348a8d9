using System.Text.Json;
using System.Text.Json.Serialization;
using Reid.Core;

namespace Reid.SpatialTemporal;

/// <summary>How a travel-time model is learned. Defaults as in ST-ReID: 4 s bins (100 frames at 25 fps), σ = 200 s.</summary>
public sealed record SpatialTemporalOptions
{
    public double BinSeconds { get; init; } = 4;
    public double SmoothingSeconds { get; init; } = 200;

    public void Validate()
    {
        if (!(BinSeconds > 0) || !double.IsFinite(BinSeconds)) throw new ReidException($"spatial-temporal bin width must be positive seconds, got {BinSeconds}");
        if (!(SmoothingSeconds >= 0) || !double.IsFinite(SmoothingSeconds)) throw new ReidException($"spatial-temporal smoothing must be non-negative seconds, got {SmoothingSeconds}");
    }
}

/// <summary>Where a travel-time probability came from: a learned camera pair, or a stand-in and why.</summary>
public enum EvidenceKind { Learned, UnseenPair, SameCamera, MissingCamera, MissingTime }

/// <summary>The travel-time probability of one pair of sightings and where it came from.</summary>
public readonly record struct SpatialTemporalEvidence(double Probability, EvidenceKind Kind)
{
    public bool IsLearned => Kind == EvidenceKind.Learned;
}

/// <summary>
/// The spatial-temporal model: for every pair of cameras that training identities were seen in, a smoothed
/// histogram of their travel time (<see cref="TravelTimeHistogram"/>), the fusion parameters and, for
/// Market-1501 style data, the <see cref="MarketClock"/> that turns (camera, sequence, frame) into seconds.
/// Pairs without a learned histogram — cameras never linked by a training identity, the same camera twice
/// (re-appearing in one view is the tracker's business, and the Market protocol ignores same-camera matches) —
/// get the uniform mass 1/bins: no evidence for or against, below any learned peak. Stored as JSON (see README).
/// </summary>
public sealed class SpatialTemporalModel
{
    public const string Format = "reid-spatial-temporal/1";

    private readonly Dictionary<(string, string), TravelTimeHistogram> _pairs;

    public SpatialTemporalOptions Options { get; }
    public FusionParameters Fusion { get; }
    public MarketClock? Clock { get; }
    public int HalfBins { get; }
    public int Identities { get; }
    public IReadOnlyCollection<TravelTimeHistogram> Pairs => _pairs.Values;
    public IReadOnlyCollection<string> Cameras { get; }

    /// <summary>The stand-in probability for pairs the model knows nothing about: uniform over the window.</summary>
    public double UniformProbability => 1.0 / (2 * HalfBins + 1);

    private SpatialTemporalModel(SpatialTemporalOptions options, FusionParameters fusion, MarketClock? clock, int halfBins,
                                 int identities, IEnumerable<TravelTimeHistogram> pairs)
    {
        options.Validate();
        fusion.Validate();
        Options = options; Fusion = fusion; Clock = clock; HalfBins = halfBins; Identities = identities;
        _pairs = new();
        foreach (var h in pairs)
        {
            if (h.From == h.To) throw new ReidException($"spatial-temporal model: camera pair {h.From}->{h.To} pairs a camera with itself");
            if (h.HalfBins != halfBins || h.BinSeconds != options.BinSeconds)
                throw new ReidException($"spatial-temporal model: camera pair {h.From}->{h.To} has a different bin layout");
            if (!_pairs.TryAdd((h.From, h.To), h) || _pairs.ContainsKey((h.To, h.From)))
                throw new ReidException($"spatial-temporal model: camera pair {h.From}->{h.To} is listed twice");
            h.Smooth(options.SmoothingSeconds);
        }
        Cameras = _pairs.Keys.SelectMany(k => new[] { k.Item1, k.Item2 }).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Learns travel times from labelled sightings. Every person seen in cameras A and B adds a total weight of
    /// one to the pair, spread evenly over all its (A, B) image pairs, so people photographed often do not
    /// outweigh the others. The window reaches the largest difference seen plus four smoothing widths.
    /// </summary>
    public static SpatialTemporalModel Learn(IReadOnlyCollection<LabelledSighting> sightings, SpatialTemporalOptions? options = null,
                                             MarketClock? clock = null, FusionParameters? fusion = null)
    {
        options ??= new SpatialTemporalOptions();
        options.Validate();
        foreach (var s in sightings)
            if (!double.IsFinite(s.Timestamp)) throw new ReidException($"spatial-temporal model: person {s.PersonId} in camera {s.Camera} has no finite timestamp");
        var people = sightings.GroupBy(s => s.PersonId)
            .Select(p => p.GroupBy(s => s.Camera).ToDictionary(c => c.Key, c => c.Select(s => s.Timestamp).ToArray()))
            .ToList();
        if (people.Count == 0) throw new ReidException("spatial-temporal model: no labelled sightings to learn from");

        var links = new List<(string From, string To, double Delta, double Weight)>();
        foreach (var cams in people)
        {
            var names = cams.Keys.Order(StringComparer.Ordinal).ToArray();
            for (var i = 0; i < names.Length; i++)
                for (var j = i + 1; j < names.Length; j++)
                {
                    var (a, b) = (cams[names[i]], cams[names[j]]);
                    var w = 1.0 / (a.Length * b.Length);
                    foreach (var ta in a) foreach (var tb in b) links.Add((names[i], names[j], tb - ta, w));
                }
        }
        var maxDelta = links.Count == 0 ? 0 : links.Max(l => Math.Abs(l.Delta));
        var halfBins = (int)Math.Ceiling((maxDelta + 4 * options.SmoothingSeconds) / options.BinSeconds);
        var pairs = new Dictionary<(string, string), TravelTimeHistogram>();
        foreach (var (from, to, delta, weight) in links)
        {
            if (!pairs.TryGetValue((from, to), out var h)) pairs[(from, to)] = h = new TravelTimeHistogram(from, to, options.BinSeconds, halfBins);
            h.Add(delta, weight);
        }
        return new SpatialTemporalModel(options, fusion ?? FusionParameters.Paper, clock, halfBins, people.Count, pairs.Values);
    }

    /// <summary>The same travel times with other fusion parameters (after fitting them).</summary>
    public SpatialTemporalModel WithFusion(FusionParameters fusion) =>
        new(Options, fusion, Clock, HalfBins, Identities, _pairs.Values.Select(h => new TravelTimeHistogram(h.From, h.To, h.BinSeconds, h.HalfBins, h.Counts)));

    /// <summary>The same counts smoothed differently (when fitting the smoothing width).</summary>
    public SpatialTemporalModel WithSmoothing(double sigmaSeconds) =>
        new(Options with { SmoothingSeconds = sigmaSeconds }, Fusion, Clock, HalfBins, Identities,
            _pairs.Values.Select(h => new TravelTimeHistogram(h.From, h.To, h.BinSeconds, h.HalfBins, h.Counts)));

    /// <summary>The travel-time probability of two sightings (order does not matter) and where it came from.</summary>
    public SpatialTemporalEvidence Evidence(CameraTime a, CameraTime b)
    {
        if (a.Camera is null || b.Camera is null) return new(UniformProbability, EvidenceKind.MissingCamera);
        if (a.Timestamp is not { } ta || b.Timestamp is not { } tb || !double.IsFinite(ta) || !double.IsFinite(tb))
            return new(UniformProbability, EvidenceKind.MissingTime);
        if (a.Camera == b.Camera) return new(UniformProbability, EvidenceKind.SameCamera);
        if (_pairs.TryGetValue((a.Camera, b.Camera), out var h)) return new(h.Probability(tb - ta), EvidenceKind.Learned);
        if (_pairs.TryGetValue((b.Camera, a.Camera), out h)) return new(h.Probability(ta - tb), EvidenceKind.Learned);
        return new(UniformProbability, EvidenceKind.UnseenPair);
    }

    /// <summary>The joint score of an appearance similarity (cosine) and two sightings.</summary>
    public double Fuse(double appearanceSimilarity, CameraTime a, CameraTime b) => Fusion.Joint(appearanceSimilarity, Evidence(a, b).Probability);

    /// <summary>The joint score for sightings given as camera and time (either may be unknown).</summary>
    public double Fuse(double appearanceSimilarity, string? cameraA, double? timeA, string? cameraB, double? timeB) =>
        Fuse(appearanceSimilarity, new CameraTime(cameraA, timeA), new CameraTime(cameraB, timeB));

    /// <summary>A Market-1501 style sighting on this model's clock; no timestamp when the model has no clock or never saw the sequence.</summary>
    public CameraTime MarketCameraTime(string camera, int sequence, int frame) => new(camera, Clock?.Timestamp(camera, sequence, frame));

    // ---- persistence -------------------------------------------------------------------------------------------

    public void Save(string path)
    {
        var dto = new ModelFile
        {
            Format = Format,
            BinSeconds = Options.BinSeconds,
            SmoothingSeconds = Options.SmoothingSeconds,
            HalfBins = HalfBins,
            Identities = Identities,
            Fusion = Fusion,
            Clock = Clock is null ? null : new ClockFile
            {
                FramesPerSecond = Clock.FramesPerSecond,
                Sequences = Clock.Sequences.OrderBy(s => s.Camera, StringComparer.Ordinal).ThenBy(s => s.Sequence).ToList(),
            },
            Pairs = _pairs.Values.OrderBy(h => h.From, StringComparer.Ordinal).ThenBy(h => h.To, StringComparer.Ordinal).Select(h =>
            {
                var bins = Enumerable.Range(0, h.BinCount).Where(i => h.Counts[i] > 0).ToArray();
                return new PairFile { From = h.From, To = h.To, Bins = bins.Select(i => i - h.HalfBins).ToArray(), Weights = bins.Select(i => h.Counts[i]).ToArray() };
            }).ToList(),
        };
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        // Write beside and rename, so an interrupted save never leaves half a model where a good one was.
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(dto, ReidJson.Options));
        File.Move(tmp, path, overwrite: true);
    }

    public static SpatialTemporalModel Load(string path)
    {
        if (!File.Exists(path)) throw new ReidException($"spatial-temporal model not found: {path}");
        if (new FileInfo(path).Length > 512L << 20) throw new ReidException($"{path}: too large for a spatial-temporal model");
        ModelFile? dto;
        try { dto = ReidJson.DeserializeAcceptingCamelCase<ModelFile>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new ReidException($"{path}: not a spatial-temporal model ({e.Message})", e); }
        if (dto is null || dto.Format != Format) throw new ReidException($"{path}: not a spatial-temporal model (format '{dto?.Format}', expected '{Format}')");
        try
        {
            var options = new SpatialTemporalOptions { BinSeconds = dto.BinSeconds, SmoothingSeconds = dto.SmoothingSeconds };
            options.Validate();
            if (dto.HalfBins is < 0 or > 10_000_000) throw new ReidException($"half_bins {dto.HalfBins} is out of range");
            var pairs = (dto.Pairs ?? []).Select(p =>
            {
                if (p.From is null || p.To is null || p.Bins is null || p.Weights is null || p.Bins.Length != p.Weights.Length)
                    throw new ReidException("a camera pair lacks from/to/bins/weights or they differ in length");
                var counts = new double[2 * dto.HalfBins + 1];
                for (var i = 0; i < p.Bins.Length; i++)
                {
                    if (Math.Abs(p.Bins[i]) > dto.HalfBins) throw new ReidException($"pair {p.From}->{p.To}: bin {p.Bins[i]} lies outside ±{dto.HalfBins}");
                    counts[p.Bins[i] + dto.HalfBins] += p.Weights[i];
                }
                return new TravelTimeHistogram(p.From, p.To, options.BinSeconds, dto.HalfBins, counts);
            }).ToList();
            var clock = dto.Clock is null ? null : new MarketClock(dto.Clock.FramesPerSecond, dto.Clock.Sequences ?? []);
            return new SpatialTemporalModel(options, dto.Fusion ?? FusionParameters.Paper, clock, dto.HalfBins, dto.Identities, pairs);
        }
        catch (ReidException e) { throw new ReidException($"{path}: bad spatial-temporal model: {e.Message}", e); }
    }

    private sealed class ModelFile
    {
        public string? Format { get; set; }
        public double BinSeconds { get; set; }
        public double SmoothingSeconds { get; set; }
        public int HalfBins { get; set; }
        public int Identities { get; set; }
        public FusionParameters? Fusion { get; set; }
        public ClockFile? Clock { get; set; }
        public List<PairFile>? Pairs { get; set; }
    }

    private sealed class ClockFile
    {
        public double FramesPerSecond { get; set; }
        public List<SequenceStart>? Sequences { get; set; }
    }

    private sealed class PairFile
    {
        public string? From { get; set; }
        public string? To { get; set; }
        public int[]? Bins { get; set; }
        public double[]? Weights { get; set; }
    }
}
