using System.Globalization;
using System.Text;
using Reid.Core;
using Reid.Imaging;

namespace Reid.Video.Metrics;

/// <summary>One row of a MOTChallenge text file: frame (1-based), object id, box, confidence, class.</summary>
public readonly record struct MotRow(long Frame, int Id, BoundingBox Box, float Confidence = 1f, int Class = -1,
    float Visibility = 1f);

/// <summary>
/// Reads and writes MOTChallenge text files (<c>frame,id,x,y,w,h,conf,...</c>). Ground truth of MOT16/17
/// has 9 columns (conf, class, visibility); MOT15-style files (e.g. TUD-Stadtmitte) have 10 columns whose
/// last three are world coordinates, so no class is read from them.
/// </summary>
public static class MotFile
{
    /// <summary>Tracks as MOT rows (one per observation), what MOT files hold and the MOT metrics score.</summary>
    public static IEnumerable<MotRow> Rows(IEnumerable<PersonTrack> tracks) =>
        tracks.SelectMany(t => t.Observations.Select(o => new MotRow(o.Frame, t.Id, o.Box, o.Score)));

    public static IReadOnlyList<MotRow> Read(string path)
    {
        if (!File.Exists(path)) throw new ReidException($"MOT file not found: {path}");
        var rows = new List<MotRow>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var f = line.Split(',', StringSplitOptions.TrimEntries);
            if (f.Length < 6)
                throw new ReidException($"{path}:{lineNo}: expected at least 6 comma-separated values (frame,id,x,y,w,h), got {f.Length}");
            try
            {
                var box = new BoundingBox(P(f[2]), P(f[3]), P(f[4]), P(f[5]));
                float conf = f.Length > 6 ? P(f[6]) : 1f;
                int cls = f.Length == 9 ? (int)P(f[7]) : -1;
                float vis = f.Length == 9 ? P(f[8]) : 1f;
                rows.Add(new MotRow((long)P(f[0]), (int)P(f[1]), box, conf, cls, vis));
            }
            catch (FormatException)
            {
                throw new ReidException($"{path}:{lineNo}: not a number in '{line}'");
            }
        }
        return rows;
    }

    public static void Write(string path, IEnumerable<MotRow> rows)
    {
        var sb = new StringBuilder();
        foreach (var r in rows.OrderBy(r => r.Frame).ThenBy(r => r.Id))
            sb.Append(CultureInfo.InvariantCulture,
                $"{r.Frame},{r.Id},{r.Box.X:0.##},{r.Box.Y:0.##},{r.Box.Width:0.##},{r.Box.Height:0.##},{r.Confidence:0.###},-1,-1,-1\n");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(path, sb.ToString());
    }

    private static float P(string s) => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
}
