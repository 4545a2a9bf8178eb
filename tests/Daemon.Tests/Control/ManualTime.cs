namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>A clock tests set by hand; local time is UTC, as on the machine the transcripts were captured on.</summary>
internal sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>A time of the capture day (2026-11-26), UTC.</summary>
    public static DateTimeOffset At(string hhmmss) =>
        DateTimeOffset.Parse($"2026-11-26T{hhmmss}Z", global::System.Globalization.CultureInfo.InvariantCulture);
}
