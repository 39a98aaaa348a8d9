using System.Globalization;
using System.Text.RegularExpressions;
using Reid.Core;

namespace Reid.Data;

/// <summary>
/// CUHK03-style folders: <c>&lt;pid&gt;_&lt;k&gt;.jpg</c> with k 0-4 from camera 1 and 5-9 from camera 2 (k written
/// with one digit or two: <c>12_7.jpg</c>, <c>0012_07.jpg</c>).
/// For each identity the lowest-numbered image of each camera is a query and the rest are gallery, so every
/// query's valid matches are the other camera's images (the same-camera ones are ignored, as in Market-1501).
/// </summary>
public static partial class Cuhk03Dataset
{
    [GeneratedRegex(@"^(\d+)_0?(\d)\.(jpg|jpeg|png)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static ReidDataset Load(string root)
    {
        if (!Directory.Exists(root)) throw new ReidException($"data set folder not found: {root}");
        var records = new List<(ImageRecord Record, int K)>();
        foreach (var file in ImageFiles.List(root))
        {
            var m = Pattern().Match(Path.GetFileName(file));
            if (!m.Success)
                throw new ReidException($"{root}: '{Path.GetFileName(file)}' is not a CUHK03-style name (expected <pid>_<k>.jpg, k 0-9)");
            // CUHK03 numbers people from 0, but person id 0 means "distractor" in this project (Market-1501's 0000):
            // shift by one so the first person is a person. Only matching uses the id; file names are unchanged.
            if (!int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number == int.MaxValue)
                throw new ReidException($"{file}: person number {m.Groups[1].Value} is too large");
            var pid = number + 1;
            var k = m.Groups[2].Value[0] - '0';
            records.Add((new ImageRecord(file, pid, k < 5 ? "1" : "2"), k));
        }
        if (records.Count == 0) throw new ReidException($"{root}: no images found");

        var query = new List<ImageRecord>();
        var gallery = new List<ImageRecord>();
        foreach (var group in records.GroupBy(r => (r.Record.PersonId, r.Record.Camera)).OrderBy(g => g.Key.PersonId).ThenBy(g => g.Key.Camera, StringComparer.Ordinal))
        {
            var ordered = group.OrderBy(r => r.K).ToList();
            query.Add(ordered[0].Record);
            gallery.AddRange(ordered.Skip(1).Select(r => r.Record));
        }
        return new ReidDataset("cuhk03", query, gallery);
    }
}
