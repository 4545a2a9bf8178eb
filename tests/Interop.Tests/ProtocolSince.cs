namespace Calico.Bgp.Interop.Tests;

/// <summary>The <c>since</c> column of <c>show protocols</c> rows (ours or BIRD's), and how to compare two reads of it.</summary>
internal static class ProtocolSince
{
    /// <summary>Far more than BIRD's rounding, far less than any restart a test provokes (each waits at least a second).</summary>
    private static readonly TimeSpan BirdJitter = TimeSpan.FromMilliseconds(20);

    public static string Of(string showProtocols, string name) =>
        showProtocols.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .First(c => c.Length >= 5 && c[0] == name)[4];

    /// <summary>
    /// Asserts that two reads of a BIRD protocol's <c>since</c> name the same state change. BIRD keeps the change
    /// on its monotonic clock and prints it as the wall-clock time read at the query less the age measured from
    /// the event loop's start, so one instant reads a millisecond apart from one query to the next ("…:03.344",
    /// then "…:03.343" in a CI run).
    /// </summary>
    public static void AssertSameChange(string expected, string actual)
    {
        var apart = (Parse(actual) - Parse(expected)).Duration();
        Assert.True(apart <= BirdJitter, $"since moved from {expected} to {actual}: the protocol changed state");
    }

    private static TimeSpan Parse(string since) =>
        TimeSpan.ParseExact(since, since.Contains('.', StringComparison.Ordinal) ? @"hh\:mm\:ss\.fff" : @"hh\:mm\:ss",
            System.Globalization.CultureInfo.InvariantCulture);
}
