namespace Calico.Bgp.LoadGen.Soak;

/// <summary>
/// One sampled quantity and its trend after warm-up: the least-squares slope of value against
/// time, per hour, with its standard error. "Flat" means the fitted line would grow by less than
/// <see cref="FlatPercentPerHour"/> of the series' mean in an hour, or the slope is within two
/// standard errors of zero (the GC heap counts garbage not yet collected, so it is noisy).
/// </summary>
public sealed record SoakSeries(string Name, string Unit, double AtStart, double AtWarmup, double AtEnd, double Mean, double Min, double Max, double SlopePerHour, double StandardErrorPerHour, int Points)
{
    public const double FlatPercentPerHour = 5;

    public double PercentPerHour => Mean == 0 ? 0 : 100 * SlopePerHour / Mean;

    public bool Flat => !double.IsNaN(SlopePerHour)
        && (Math.Abs(PercentPerHour) < FlatPercentPerHour || Math.Abs(SlopePerHour) < 2 * StandardErrorPerHour);

    public static SoakSeries Fit(string name, string unit, IReadOnlyList<SoakSample> samples, Func<SoakSample, double> value, double warmupSeconds)
    {
        var all = samples.Where(s => !double.IsNaN(value(s))).ToList();
        var window = all.Where(s => s.Seconds >= warmupSeconds).ToList();
        if (window.Count < 2)
            return new SoakSeries(name, unit, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, window.Count);
        var values = window.Select(value).ToList();
        var (slope, error) = Slope(window.Select(s => s.Seconds).ToList(), values);
        return new SoakSeries(name, unit, value(all[0]), values[0], values[^1], values.Average(), values.Min(), values.Max(),
            slope * 3600, error * 3600, window.Count);
    }

    /// <summary>
    /// Ordinary least squares: slope Σ(t − t̄)(y − ȳ) / Σ(t − t̄)², and its standard error
    /// √(Σ residual² / (n − 2) / Σ(t − t̄)²).
    /// </summary>
    public static (double Slope, double StandardError) Slope(IReadOnlyList<double> t, IReadOnlyList<double> y)
    {
        var tm = t.Average();
        var ym = y.Average();
        double num = 0, den = 0;
        for (var i = 0; i < t.Count; i++)
        {
            num += (t[i] - tm) * (y[i] - ym);
            den += (t[i] - tm) * (t[i] - tm);
        }
        if (den == 0)
            return (double.NaN, double.NaN);
        var slope = num / den;
        double residuals = 0;
        for (var i = 0; i < t.Count; i++)
        {
            var r = y[i] - ym - (slope * (t[i] - tm));
            residuals += r * r;
        }
        return (slope, t.Count > 2 ? Math.Sqrt(residuals / (t.Count - 2) / den) : double.NaN);
    }
}
