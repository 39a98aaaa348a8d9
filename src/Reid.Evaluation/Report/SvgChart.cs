using System.Globalization;
using System.Net;
using System.Text;

namespace Reid.Evaluation.Report;

/// <summary>A line series, drawn as a polyline.</summary>
public sealed record Series(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y, string Colour);

/// <summary>A vertical marker line with a label (a threshold on a histogram).</summary>
public sealed record Marker(double X, string Label, string Colour);

/// <summary>Histogram bars of one class, as densities over shared bins.</summary>
public sealed record Bars(string Label, double[] Density, string Colour);

/// <summary>
/// A small self-contained SVG chart: axes, ticks, grid, legend; linear or logarithmic x axis. Enough for
/// CMC curves, ROC curves and score histograms without any script or external library.
/// </summary>
public sealed class SvgChart
{
    private const int Width = 560, Height = 360, Left = 60, Right = 20, Top = 30, Bottom = 50;
    private readonly StringBuilder _body = new();
    private readonly List<(string Label, string Colour)> _legend = [];

    public required string Title { get; init; }
    public required string XLabel { get; init; }
    public required string YLabel { get; init; }
    public required double XMin { get; init; }
    public required double XMax { get; init; }
    public double YMin { get; init; }
    public double YMax { get; init; } = 1;
    public bool LogX { get; init; }

    private double Px(double x)
    {
        var t = LogX ? (Math.Log10(x) - Math.Log10(XMin)) / (Math.Log10(XMax) - Math.Log10(XMin)) : (x - XMin) / (XMax - XMin);
        return Left + Math.Clamp(t, 0, 1) * (Width - Left - Right);
    }

    private double Py(double y) => Height - Bottom - Math.Clamp((y - YMin) / (YMax - YMin), 0, 1) * (Height - Top - Bottom);

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    private static string E(string s) => WebUtility.HtmlEncode(s);

    public SvgChart Line(Series s)
    {
        var pts = new StringBuilder();
        for (var i = 0; i < s.X.Count; i++)
            if (!LogX || s.X[i] > 0) pts.Append(F(Px(s.X[i]))).Append(',').Append(F(Py(s.Y[i]))).Append(' ');
        _body.Append($"<polyline fill=\"none\" stroke=\"{s.Colour}\" stroke-width=\"2\" points=\"{pts}\"/>\n");
        _legend.Add((s.Label, s.Colour));
        return this;
    }

    public SvgChart Histogram(double[] binEdges, params Bars[] bars)
    {
        foreach (var b in bars)
        {
            for (var i = 0; i < b.Density.Length; i++)
            {
                if (b.Density[i] <= 0) continue;
                double x0 = Px(binEdges[i]), x1 = Px(binEdges[i + 1]), y = Py(b.Density[i]);
                _body.Append($"<rect x=\"{F(x0)}\" y=\"{F(y)}\" width=\"{F(Math.Max(x1 - x0, 0.5))}\" height=\"{F(Py(YMin) - y)}\" fill=\"{b.Colour}\" fill-opacity=\"0.45\"/>\n");
            }
            _legend.Add((b.Label, b.Colour));
        }
        return this;
    }

    public SvgChart Mark(Marker m)
    {
        var x = Px(m.X);
        _body.Append($"<line x1=\"{F(x)}\" x2=\"{F(x)}\" y1=\"{Top}\" y2=\"{Height - Bottom}\" stroke=\"{m.Colour}\" stroke-dasharray=\"4 3\"/>\n");
        _body.Append($"<text x=\"{F(x + 3)}\" y=\"{Top + 12 + 12 * _markers++}\" font-size=\"10\" fill=\"{m.Colour}\">{E(m.Label)}</text>\n");
        return this;
    }

    private int _markers;

    public string Render()
    {
        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\">\n");
        sb.Append($"<text x=\"{Width / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">{E(Title)}</text>\n");
        foreach (var (v, label) in XTicks())
        {
            var x = Px(v);
            sb.Append($"<line x1=\"{F(x)}\" x2=\"{F(x)}\" y1=\"{Top}\" y2=\"{Height - Bottom}\" stroke=\"#ddd\"/>");
            sb.Append($"<text x=\"{F(x)}\" y=\"{Height - Bottom + 15}\" text-anchor=\"middle\" font-size=\"11\">{label}</text>\n");
        }
        for (var i = 0; i <= 5; i++)
        {
            var v = YMin + (YMax - YMin) * i / 5;
            var y = Py(v);
            sb.Append($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{F(y)}\" y2=\"{F(y)}\" stroke=\"#ddd\"/>");
            sb.Append($"<text x=\"{Left - 5}\" y=\"{F(y + 4)}\" text-anchor=\"end\" font-size=\"11\">{v.ToString("0.##", CultureInfo.InvariantCulture)}</text>\n");
        }
        sb.Append($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - Right}\" height=\"{Height - Top - Bottom}\" fill=\"none\" stroke=\"#333\"/>\n");
        sb.Append($"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 12}\" text-anchor=\"middle\" font-size=\"12\">{E(XLabel)}</text>\n");
        sb.Append($"<text transform=\"translate(15 {(Top + Height - Bottom) / 2}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">{E(YLabel)}</text>\n");
        sb.Append(_body);
        for (var i = 0; i < _legend.Count; i++)
        {
            var y = Height - Bottom - 12 - 16 * (_legend.Count - 1 - i);
            sb.Append($"<rect x=\"{Width - Right - 150}\" y=\"{y - 9}\" width=\"12\" height=\"10\" fill=\"{_legend[i].Colour}\"/>");
            sb.Append($"<text x=\"{Width - Right - 134}\" y=\"{y}\" font-size=\"11\">{E(_legend[i].Label)}</text>\n");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    private IEnumerable<(double Value, string Label)> XTicks()
    {
        if (LogX)
        {
            for (var e = (int)Math.Ceiling(Math.Log10(XMin)); e <= (int)Math.Floor(Math.Log10(XMax)); e++)
                yield return (Math.Pow(10, e), e == 0 ? "1" : $"1e{e}");
            yield break;
        }
        var step = NiceStep((XMax - XMin) / 8);
        for (var v = Math.Ceiling(XMin / step) * step; v <= XMax + 1e-9; v += step)
            yield return (v, v.ToString("0.##", CultureInfo.InvariantCulture));
    }

    private static double NiceStep(double raw)
    {
        var p = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var m = raw / p;
        return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
    }
}
