using System.Globalization;

namespace Calico.Bgp.Daemon.Control;

/// <summary>BIRD 1.6's time formats (<c>timeformat</c> defaults), in the machine's local time as BIRD prints them.</summary>
internal static class BirdTime
{
    /// <summary>BIRD's <c>tf_proto</c>/<c>tf_route</c> switch-over: <c>%T</c> within 20 hours, else <c>%F</c>.</summary>
    private static readonly TimeSpan ShortLimit = TimeSpan.FromHours(20);

    /// <summary>
    /// <c>%T</c> (<c>10:53:06</c>) for times less than 20 h ago, else <c>%F</c> (<c>2026-11-25</c>).
    /// Always one token: Calico splits <c>show protocols</c> rows on whitespace.
    /// </summary>
    public static string Short(DateTimeOffset time, DateTimeOffset now, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(time, zone);
        return now - time < ShortLimit
            ? local.ToString("HH:mm:ss", CultureInfo.InvariantCulture)
            : local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    /// <summary><c>%F %T</c>, the <c>tf_base</c> format of <c>show status</c>.</summary>
    public static string Full(DateTimeOffset time, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(time, zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>BIRD's <c>%R</c>: a router id as a dotted quad.</summary>
    public static string RouterId(uint id) => $"{id >> 24}.{(id >> 16) & 0xFF}.{(id >> 8) & 0xFF}.{id & 0xFF}";
}
