using System.Globalization;

namespace Reid.Core.Config;

/// <summary>
/// Every problem found in one config file, collected rather than thrown one at a time so a user fixes the file
/// in one go. Each problem names its key; a key the file sets also gets the line it is set on.
/// </summary>
public sealed class ConfigProblems
{
    private readonly List<string> _items = [];
    private readonly IReadOnlyDictionary<string, int> _lines;

    public ConfigProblems(string source, IReadOnlyDictionary<string, int>? lines = null)
    {
        Source = source;
        _lines = lines ?? new Dictionary<string, int>();
    }

    /// <summary>Names the file (or text) in the error.</summary>
    public string Source { get; }

    public IReadOnlyList<string> Items => _items;

    /// <summary>The line <paramref name="key"/> is set on, when the file sets it.</summary>
    public int? LineOf(string key) => _lines.TryGetValue(key, out var line) ? line : null;

    /// <summary>A problem with <paramref name="key"/>; <paramref name="message"/> names the key itself.</summary>
    public void Add(string key, string message) =>
        _items.Add(LineOf(key) is { } line ? $"{message} (line {line})" : message);

    public void Check(bool ok, string key, string message)
    {
        if (!ok) Add(key, message);
    }

    /// <summary>The value must lie in [lo, hi], or (lo, hi) where <paramref name="loOpen"/>/<paramref name="hiOpen"/> say so.</summary>
    public void Range(string key, double value, double lo, double hi, bool loOpen = false, bool hiOpen = false)
    {
        var ok = (loOpen ? value > lo : value >= lo) && (hiOpen ? value < hi : value <= hi);
        if (!ok)
            Add(key, string.Create(CultureInfo.InvariantCulture,
                $"{key} = {value} is out of range; allowed {(loOpen ? "(" : "[")}{lo}, {hi}{(hiOpen ? ")" : "]")}"));
    }

    /// <summary>The value must be at least <paramref name="lo"/>, or above it where <paramref name="open"/> says so.</summary>
    public void Minimum(string key, double value, double lo, bool open = false)
    {
        if (open ? value <= lo : value < lo)
            Add(key, string.Create(CultureInfo.InvariantCulture, $"{key} = {value} must be {(open ? ">" : "≥")} {lo}"));
    }

    /// <summary>For the binder, whose messages already carry the line of the node they are about.</summary>
    internal void AddLocated(string message) => _items.Add(message);

    /// <summary>Runs <paramref name="check"/> on a config built in code (no file, so no lines) and throws if it finds anything.</summary>
    public static void Validate(string source, Action<ConfigProblems> check)
    {
        var problems = new ConfigProblems(source);
        check(problems);
        problems.ThrowIfAny();
    }

    public void ThrowIfAny()
    {
        if (_items.Count > 0) throw new ReidException($"{Source}: {string.Join("; ", _items)}");
    }
}
