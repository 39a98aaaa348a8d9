using System.Globalization;
using System.Text;
using Reid.Core;

namespace Reid.Data;

/// <summary>
/// A CSV of <c>image,label[,camera][,timestamp]</c> (an optional header row starting with <c>image</c>);
/// image paths are relative to the CSV's folder, timestamps are seconds (a float) from any fixed origin.
/// Cut into query and gallery by a <see cref="QuerySelection"/> whose list files name images as the CSV does.
/// </summary>
public static class CsvDataset
{
    public static ReidDataset Load(string csvPath, QuerySelection selection)
    {
        if (!File.Exists(csvPath)) throw new ReidException($"CSV file not found: {csvPath}");
        var dir = Path.GetDirectoryName(Path.GetFullPath(csvPath))!;
        var rows = new List<(string Image, string Label, string? Camera, double? Time)>();
        var lineNo = 0;
        var first = true;
        foreach (var raw in File.ReadLines(csvPath))
        {
            lineNo++;
            if (raw.Trim().Length == 0 || raw.TrimStart().StartsWith('#')) continue;
            var fields = SplitLine(raw, csvPath, lineNo);
            var isHeader = first && fields[0].Trim().Equals("image", StringComparison.OrdinalIgnoreCase);
            first = false;
            if (isHeader) continue;
            if (fields.Count is < 2 or > 4)
                throw new ReidException($"{csvPath} line {lineNo}: expected image,label[,camera][,timestamp], found {fields.Count} field(s)");
            var image = fields[0].Trim();
            var label = fields[1].Trim();
            if (image.Length == 0 || label.Length == 0)
                throw new ReidException($"{csvPath} line {lineNo}: the image and label fields must not be empty");
            string? camera = fields.Count > 2 && fields[2].Trim().Length > 0 ? fields[2].Trim() : null;
            double? time = null;
            if (fields.Count > 3 && fields[3].Trim().Length > 0)
            {
                if (!double.TryParse(fields[3].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var t) || !double.IsFinite(t))
                    throw new ReidException($"{csvPath} line {lineNo}: timestamp '{fields[3].Trim()}' is not a number of seconds");
                time = t;
            }
            rows.Add((image, label, camera, time));
        }
        if (rows.Count == 0) throw new ReidException($"{csvPath}: no rows");
        var ids = IdentityLabels.Map(rows.Select(r => r.Label));
        var pool = rows.Select(r => (r.Image, new ImageRecord(Path.GetFullPath(Path.Combine(dir, r.Image)), ids[r.Label], r.Camera, Timestamp: r.Time)))
                       .ToList();
        var (q, g, tr) = selection.Apply(pool, csvPath);
        return new ReidDataset("csv", q, g, tr);
    }

    /// <summary>Splits one CSV line (RFC 4180 quoting: "a,b" and "" for a quote inside quotes).</summary>
    internal static List<string> SplitLine(string line, string source, int lineNo)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else sb.Append(c);
            }
            else if (c == '"' && sb.ToString().Trim().Length == 0) { sb.Clear(); quoted = true; }
            else if (c == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(c);
        }
        if (quoted) throw new ReidException($"{source} line {lineNo}: unterminated quoted field");
        fields.Add(sb.ToString());
        return fields;
    }
}
