using System.Globalization;
using System.Text.Json;
using Calico.Bgp.LoadGen.Orchestration;

namespace Calico.Bgp.LoadGen;

/// <summary>
/// P2's convergence curves and P4's latency distribution as PNGs under bench/plots/, drawn
/// without any package (<see cref="PngCanvas"/>). No text is rendered: the Markdown caption
/// carries the axes and the colour legend.
/// </summary>
public static class Plots
{
    public sealed record Plot(string Title, string RelativePath);

    private static readonly Dictionary<DutKind, (byte R, byte G, byte B, string Name)> Colours = new()
    {
        [DutKind.Ours] = (220, 30, 30, "red"),
        [DutKind.Bird2] = (30, 80, 220, "blue"),
        [DutKind.Bird16] = (20, 160, 60, "green"),
        [DutKind.Gobgp] = (240, 150, 0, "orange"),
        [DutKind.Frr] = (140, 40, 170, "purple"),
    };

    public static IEnumerable<Plot> For(string scenario, IReadOnlyList<Measurement> group, string benchDir)
    {
        var plots = new List<Plot>();
        if (scenario == "P2" && group.Where(m => m.Runs.Any(r => r.Agent.ValueKind == JsonValueKind.Object)).MaxBy(m => m.Case.Length * 100 + string.CompareOrdinal(m.Case, "")) is { } largest)
        {
            var series = Series(group.Where(m => m.Case == largest.Case), "curve", (r, p) =>
                (p[0], p[1] / Math.Max(1, r.Extra("routesExpected") ?? 1)));
            if (series.Count > 0)
                plots.Add(Draw(benchDir, "p2-convergence.png", series, logX: false,
                    $"P2 {largest.Case}: fraction of all routes held by all clients (y, 0-1) vs seconds since GO (x, 0-{MaxX(series):F1} s); {Legend(series)}"));
        }
        if (scenario == "P4" && group.Select(m => m.Case).Distinct().LastOrDefault() is { } fastest)
        {
            var series = Series(group.Where(m => m.Case == fastest), "cdf", (_, p) => (Math.Log10(Math.Max(0.01, p[0])), 0));
            // The CDF: sample i of n is the i/n quantile.
            series = series.ToDictionary(kv => kv.Key, kv => kv.Value.Select((p, i) => (p.X, (double)i / Math.Max(1, kv.Value.Count - 1))).ToList());
            if (series.Count > 0)
                plots.Add(Draw(benchDir, "p4-latency-cdf.png", series, logX: true,
                    $"P4 {fastest}: CDF of announcement latency (y, 0-1) vs log10 milliseconds (x, {MinX(series):F1} to {MaxX(series):F1}, i.e. {Math.Pow(10, MinX(series)):G2}-{Math.Pow(10, MaxX(series)):G3} ms); {Legend(series)}"));
        }
        return plots;
    }

    private static Dictionary<DutKind, List<(double X, double Y)>> Series(IEnumerable<Measurement> ms, string property, Func<RunResult, double[], (double, double)> map)
    {
        var result = new Dictionary<DutKind, List<(double, double)>>();
        foreach (var m in ms)
        {
            var run = m.Runs.FirstOrDefault(r => r.Agent.ValueKind == JsonValueKind.Object && r.Agent.TryGetProperty(property, out _));
            if (run is null)
                continue;
            var points = new List<(double, double)>();
            foreach (var e in run.Agent.GetProperty(property).EnumerateArray())
            {
                double[] p = e.ValueKind == JsonValueKind.Array ? [.. e.EnumerateArray().Select(x => x.GetDouble())] : [e.GetDouble()];
                points.Add(map(run, p));
            }
            if (points.Count > 0)
                result[m.Daemon] = points;
        }
        return result;
    }

    private static double MaxX(Dictionary<DutKind, List<(double X, double Y)>> s) => s.Values.SelectMany(v => v).Max(p => p.X);

    private static double MinX(Dictionary<DutKind, List<(double X, double Y)>> s) => s.Values.SelectMany(v => v).Min(p => p.X);

    private static string Legend(Dictionary<DutKind, List<(double X, double Y)>> s) =>
        string.Join(", ", s.Keys.Select(k => $"{Colours[k].Name} = {Dut.Name(k)}"));

    private static Plot Draw(string benchDir, string file, Dictionary<DutKind, List<(double X, double Y)>> series, bool logX, string title)
    {
        const int W = 800, H = 500, M = 40;
        var canvas = new PngCanvas(W, H);
        var minX = logX ? MinX(series) : 0;
        var maxX = Math.Max(minX + 1e-6, MaxX(series));
        var maxY = Math.Max(1e-9, series.Values.SelectMany(v => v).Max(p => p.Y));
        int Px(double x) => M + (int)((x - minX) / (maxX - minX) * (W - 2 * M));
        int Py(double y) => H - M - (int)(y / maxY * (H - 2 * M));
        // Axes and a light grid at tenths.
        for (var i = 0; i <= 10; i++)
        {
            canvas.Line(M, Py(maxY * i / 10), W - M, Py(maxY * i / 10), 225, 225, 225);
            canvas.Line(M + (i * (W - 2 * M) / 10), M, M + (i * (W - 2 * M) / 10), H - M, 225, 225, 225);
        }
        canvas.Line(M, H - M, W - M, H - M, 0, 0, 0);
        canvas.Line(M, M, M, H - M, 0, 0, 0);
        foreach (var (kind, points) in series)
        {
            var (r, g, b, _) = Colours[kind];
            for (var i = 1; i < points.Count; i++)
                canvas.Line(Px(points[i - 1].X), Py(points[i - 1].Y), Px(points[i].X), Py(points[i].Y), r, g, b, thick: true);
        }
        var dir = Path.Combine(benchDir, "plots");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, file), canvas.Encode());
        return new Plot(title, "plots/" + file);
    }

    internal static string Invariant(double v) => v.ToString(CultureInfo.InvariantCulture);
}
