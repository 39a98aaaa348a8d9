using System.Globalization;
using Reid.Core;

namespace Reid.SpatialTemporal;

/// <summary>A Market-1501 style frame reference: camera, sequence within that camera, frame within the sequence.</summary>
public readonly record struct SequenceFrame(int PersonId, string Camera, int Sequence, int Frame);

/// <summary>Where one camera's sequence starts on the network's common time line, in seconds.</summary>
public sealed record SequenceStart(string Camera, int Sequence, double StartSeconds, double LengthSeconds, double AlignmentSeconds);

/// <summary>How the clock is learned; see the README for why these defaults.</summary>
public sealed record MarketClockOptions
{
    public double FramesPerSecond { get; init; } = 25;

    /// <summary>A sequence whose start disagrees with its own camera's first sequence by more than this (median over
    /// same-person sightings in other cameras) is moved. Half a 4 s bin: on holdout-v1 the fine corrections (sequence
    /// lengths read from the largest training frame fall short of the true ones) matter as much as the hour-long pause.</summary>
    public double MinGapSeconds { get; init; } = 2;

    /// <summary>Fewer same-person links than this and a sequence keeps the concatenation rule.</summary>
    public int MinLinks { get; init; } = 20;
}

/// <summary>
/// Market-1501's time line. Frame numbers restart with each sequence (PPPP_cCsS_FFFFFF_BB.jpg, 25 fps), so a
/// timestamp is the sequence's start plus frame / fps. Sequences of a camera follow one another (their start is
/// the sum of the earlier sequences' lengths, measured as the largest frame number seen), except where the
/// recording paused: such a gap is found from labelled people seen by other cameras and added to the start.
/// Learned from training identities only; stored with the <see cref="SpatialTemporalModel"/>.
/// </summary>
public sealed class MarketClock
{
    private readonly Dictionary<(string Camera, int Sequence), SequenceStart> _starts;

    public double FramesPerSecond { get; }
    public IReadOnlyCollection<SequenceStart> Sequences => _starts.Values;

    public MarketClock(double framesPerSecond, IEnumerable<SequenceStart> starts)
    {
        if (!(framesPerSecond > 0) || !double.IsFinite(framesPerSecond))
            throw new ReidException($"Market clock: frames per second must be positive, got {framesPerSecond}");
        FramesPerSecond = framesPerSecond;
        _starts = new();
        foreach (var s in starts)
        {
            if (s is null || string.IsNullOrEmpty(s.Camera)) throw new ReidException("Market clock: a sequence has no camera");
            if (!double.IsFinite(s.StartSeconds)) throw new ReidException($"Market clock: camera {s.Camera} sequence {s.Sequence} has no finite start");
            if (!_starts.TryAdd((s.Camera, s.Sequence), s))
                throw new ReidException($"Market clock: camera {s.Camera} sequence {s.Sequence} is listed twice");
        }
    }

    /// <summary>Seconds on the common time line, or null when this camera's sequence was never seen in training.</summary>
    public double? Timestamp(string camera, int sequence, int frame) =>
        _starts.TryGetValue((camera, sequence), out var s) ? s.StartSeconds + frame / FramesPerSecond : null;

    /// <summary>The plain concatenation rule alone: each sequence starts where the camera's previous ones end.</summary>
    public static MarketClock Concatenated(IReadOnlyCollection<SequenceFrame> frames, double framesPerSecond = 25) =>
        new(framesPerSecond, ConcatenatedStarts(frames, framesPerSecond));

    /// <summary>Learns sequence starts from labelled training frames (see the class summary).</summary>
    public static MarketClock Learn(IReadOnlyCollection<SequenceFrame> frames, MarketClockOptions? options = null)
    {
        options ??= new MarketClockOptions();
        if (frames.Count == 0) throw new ReidException("Market clock: no training frames to learn sequence starts from");
        var starts = ConcatenatedStarts(frames, options.FramesPerSecond).ToDictionary(s => (s.Camera, s.Sequence));
        // One gap at a time (each camera's earliest, the largest of those first): a shifted sequence also disturbs the other cameras' medians, and
        // with two cameras only, which of them paused is decided by the rule that a pause can only delay a sequence.
        for (var pass = 0; pass < 4 * starts.Count; pass++)
        {
            var gap = LargestGap(frames, starts, options);
            if (gap is not var (camera, sequence, seconds)) break;
            foreach (var key in starts.Keys.Where(k => k.Camera == camera && k.Sequence >= sequence).ToList())
                starts[key] = starts[key] with
                {
                    StartSeconds = starts[key].StartSeconds + seconds,
                    AlignmentSeconds = starts[key].AlignmentSeconds + seconds,
                };
        }
        return new MarketClock(options.FramesPerSecond, starts.Values);
    }

    /// <summary>
    /// For each camera sequence, the median time difference to the same people in other cameras; a later
    /// sequence whose median lies more than <see cref="MarketClockOptions.MinGapSeconds"/> before that of the
    /// camera's first linked sequence started that much later than the concatenation rule says.
    /// </summary>
    private static (string Camera, int Sequence, double Seconds)? LargestGap(
        IReadOnlyCollection<SequenceFrame> frames, Dictionary<(string Camera, int Sequence), SequenceStart> starts, MarketClockOptions options)
    {
        double Time(SequenceFrame f) => starts[(f.Camera, f.Sequence)].StartSeconds + f.Frame / options.FramesPerSecond;
        var perPerson = frames.GroupBy(f => f.PersonId).ToDictionary(
            p => p.Key, p => p.GroupBy(f => f.Camera).Select(c => (Camera: c.Key, Time: Median(c.Select(Time)))).ToList());
        (string, int, double)? best = null;
        foreach (var camera in frames.GroupBy(f => f.Camera))
        {
            var residual = new SortedDictionary<int, double>();
            foreach (var seq in camera.GroupBy(f => f.Sequence))
            {
                var links = new List<double>();
                foreach (var person in seq.GroupBy(f => f.PersonId))
                {
                    var here = Median(person.Select(Time));
                    foreach (var (other, there) in perPerson[person.Key])
                        if (other != camera.Key) links.Add(here - there);
                }
                if (links.Count >= options.MinLinks) residual[seq.Key] = Median(links);
            }
            if (residual.Count < 2) continue;
            var reference = residual.First().Value;
            foreach (var (seq, r) in residual.Skip(1))
            {
                var gap = reference - r;
                if (gap <= options.MinGapSeconds) continue;
                // The earliest gap of a camera first: shifting it also moves every later sequence.
                if (best is null || gap > best.Value.Item3) best = (camera.Key, seq, gap);
                break;
            }
        }
        return best;
    }

    private static IEnumerable<SequenceStart> ConcatenatedStarts(IReadOnlyCollection<SequenceFrame> frames, double fps)
    {
        foreach (var camera in frames.GroupBy(f => f.Camera))
        {
            var lengths = camera.GroupBy(f => f.Sequence).ToDictionary(g => g.Key, g => g.Max(f => f.Frame) / fps);
            var start = 0.0;
            // Sequences numbered but never seen count as length zero: nothing better is known about them.
            for (var seq = 1; seq <= lengths.Keys.Max(); seq++)
            {
                var length = lengths.GetValueOrDefault(seq);
                if (lengths.ContainsKey(seq)) yield return new SequenceStart(camera.Key, seq, start, length, 0);
                start += length;
            }
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var a = values.ToArray();
        Array.Sort(a);
        var n = a.Length;
        return n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
    }

    public override string ToString() => string.Join("; ", _starts.Values.OrderBy(s => s.Camera, StringComparer.Ordinal).ThenBy(s => s.Sequence)
        .Select(s => string.Create(CultureInfo.InvariantCulture, $"c{s.Camera}s{s.Sequence}@{s.StartSeconds:F0}s")));
}
