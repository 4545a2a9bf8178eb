using System.Globalization;

namespace Calico.Bgp.LoadGen.Soak;

/// <summary>
/// The soak's series as one PNG of stacked panels (drawn with <see cref="PngCanvas"/>, no text):
/// each panel's y axis runs from 0 to its series' maximum, so a slope is seen at its true size;
/// the fitted line is drawn in grey over the window after warm-up, whose start is a vertical line.
/// </summary>
public static class SoakPlot
{
    private const int Width = 800;
    private const int PanelHeight = 160;
    private const int Margin = 30;

    private static readonly (byte R, byte G, byte B, string Name)[] Colours =
    [
        (220, 30, 30, "red"),
        (30, 80, 220, "blue"),
        (20, 160, 60, "green"),
        (240, 150, 0, "orange"),
    ];

    /// <summary>Writes <paramref name="file"/> and returns its caption.</summary>
    public static string Draw(string file, IReadOnlyList<SoakSample> samples, IReadOnlyList<(SoakSeries Series, Func<SoakSample, double> Value)> panels, double warmupSeconds)
    {
        var height = panels.Count * PanelHeight;
        var canvas = new PngCanvas(Width, height);
        var maxT = Math.Max(1, samples.Max(s => s.Seconds));
        int Px(double t) => Margin + (int)(t / maxT * (Width - (2 * Margin)));
        var captions = new List<string>();
        for (var p = 0; p < panels.Count; p++)
        {
            var (series, value) = panels[p];
            var (r, g, b, colour) = Colours[p % Colours.Length];
            var top = p * PanelHeight;
            var points = samples.Where(s => !double.IsNaN(value(s))).Select(s => (s.Seconds, Value: value(s))).ToList();
            var maxY = Math.Max(1e-9, points.Count == 0 ? 1 : points.Max(x => x.Value) * 1.1);
            int Py(double y) => top + PanelHeight - Margin + 10 - (int)(y / maxY * (PanelHeight - Margin - 10));
            for (var i = 0; i <= 10; i++)
                canvas.Line(Px(maxT * i / 10), top + 10, Px(maxT * i / 10), Py(0), 225, 225, 225);
            for (var i = 0; i <= 4; i++)
                canvas.Line(Px(0), Py(maxY * i / 4), Px(maxT), Py(maxY * i / 4), 225, 225, 225);
            canvas.Line(Px(0), Py(0), Px(maxT), Py(0), 0, 0, 0);
            canvas.Line(Px(0), top + 10, Px(0), Py(0), 0, 0, 0);
            canvas.Line(Px(warmupSeconds), top + 10, Px(warmupSeconds), Py(0), 120, 120, 120);
            for (var i = 1; i < points.Count; i++)
                canvas.Line(Px(points[i - 1].Seconds), Py(points[i - 1].Value), Px(points[i].Seconds), Py(points[i].Value), r, g, b, thick: true);
            if (!double.IsNaN(series.SlopePerHour))
            {
                // The fitted line passes through the window's mean at the window's mean time.
                var window = points.Where(x => x.Seconds >= warmupSeconds).ToList();
                var tm = window.Average(x => x.Seconds);
                var slope = series.SlopePerHour / 3600;
                double Fit(double t) => series.Mean + (slope * (t - tm));
                canvas.Line(Px(window[0].Seconds), Py(Fit(window[0].Seconds)), Px(window[^1].Seconds), Py(Fit(window[^1].Seconds)), 90, 90, 90);
            }
            captions.Add(string.Create(CultureInfo.InvariantCulture, $"panel {p + 1} ({colour}) {series.Name}, y 0-{maxY:G4} {series.Unit}"));
        }
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, canvas.Encode());
        return string.Create(CultureInfo.InvariantCulture,
            $"Soak, top to bottom: {string.Join("; ", captions)}; x: 0-{maxT / 60:F1} minutes since the churn started; grey vertical line: end of warm-up; grey line: least-squares fit");
    }
}
