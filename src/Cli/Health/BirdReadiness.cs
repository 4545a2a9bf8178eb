using System.Globalization;
using System.Text.RegularExpressions;

namespace Calico.Bgp.Cli.Health;

/// <summary>A Calico BGP peer as parsed from a <c>show protocols</c> row.</summary>
internal sealed record BirdPeer(string Address, string Name, string BgpState);

/// <summary>
/// calico-node's <c>--bird-ready</c> check (shared/CALICO.md c.2), ported from its Go:
/// <c>scanBIRDPeers</c>/<c>unmarshalBIRD</c> for <c>show protocols</c>, <c>GRInProgress</c> for
/// <c>show status</c>, and <c>checkBIRDReady</c>'s decision. The parsers throw
/// <see cref="FormatException"/> where Calico's return an error (which fails the probe).
/// </summary>
internal static partial class BirdReadiness
{
    public static List<BirdPeer> ParsePeers(IEnumerable<string> lines)
    {
        List<BirdPeer> peers = [];
        foreach (var line in lines)
        {
            string row;
            if (line.StartsWith("0000", StringComparison.Ordinal))
                break;
            if (line.StartsWith("0001", StringComparison.Ordinal))
                continue;
            if (line.StartsWith("2002", StringComparison.Ordinal))
            {
                var heading = string.Join(' ', line[5..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
                if (heading != "name proto table state since info")
                    throw new FormatException("unknown BIRD table output format");
                continue;
            }
            if (line.StartsWith("1002", StringComparison.Ordinal))
                row = line[5..];
            else if (line.StartsWith(' '))
                row = line[1..];
            else
                throw new FormatException($"unexpected output line from BIRD: {line}");
            var columns = row.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length < 6 || columns[1] != "BGP" || PeerName().Match(columns[0]) is not { Success: true } m)
                continue;
            var id = m.Groups[2].Value;
            // Calico knows the family from which daemon it asks; an IPv4 name has exactly three '_'.
            var address = id.Count(c => c == '_') == 3 && !id.Contains("__", StringComparison.Ordinal) ? id.Replace('_', '.') : id.Replace('_', ':');
            peers.Add(new BirdPeer(address, columns[0], columns[5]));
        }
        return peers;
    }

    /// <summary>The <c>show status</c> facts the check needs: graceful restart running, and the daemon's age.</summary>
    public static (bool GracefulRestart, TimeSpan? Age) ParseStatus(IEnumerable<string> lines)
    {
        var gr = false;
        DateTime? now = null, boot = null;
        foreach (var line in lines)
        {
            if (line.StartsWith("0013", StringComparison.Ordinal))
                return (gr, now is { } n && boot is { } b ? n - b : null);
            if (line.StartsWith("0024", StringComparison.Ordinal))
            {
                // GRInProgress answers true here; reading on only collects the times.
                gr = true;
                continue;
            }
            string text;
            if (line.StartsWith("0001", StringComparison.Ordinal) || line.StartsWith("1000", StringComparison.Ordinal) || line.StartsWith("1011", StringComparison.Ordinal))
                text = line[5..];
            else if (line.StartsWith(' '))
                text = line[1..];
            else
                throw new FormatException($"unexpected output line from BIRD: {line}");
            text = text.Trim();
            if (text.StartsWith("Current server time is ", StringComparison.Ordinal))
                now = ParseTime(text["Current server time is ".Length..]);
            else if (text.StartsWith("Last reboot on ", StringComparison.Ordinal))
                boot = ParseTime(text["Last reboot on ".Length..]);
        }
        throw new FormatException("show status ended without 0013");
    }

    /// <summary>
    /// <c>checkBIRDReady</c> once the peers are known. Within the start-up window every peer must
    /// be Established and no graceful restart may run; after it one Established peer is enough.
    /// </summary>
    public static (bool Ready, string Reason) Decide(IReadOnlyList<BirdPeer> peers, bool withinStartupWindow, bool gracefulRestart)
    {
        if (peers.Count == 0)
            return (true, "no BGP peers");
        var down = peers.Where(p => p.BgpState != "Established").Select(p => p.Address).ToList();
        if (withinStartupWindow)
        {
            if (down.Count > 0)
                return (false, $"BGP not established with {string.Join(',', down)}");
            if (gracefulRestart)
                return (false, "graceful restart in progress");
            return (true, "all BGP peers established");
        }
        return down.Count < peers.Count
            ? (true, $"{peers.Count - down.Count} of {peers.Count} BGP peers established")
            : (false, $"BGP not established with {string.Join(',', down)}");
    }

    /// <summary>BIRD's <c>%F %T</c>, BIRD 2 adding milliseconds.</summary>
    private static DateTime? ParseTime(string text) =>
        DateTime.TryParseExact(text.Trim(), ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.fff"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t : null;

    [GeneratedRegex(@"^(Global|Node|Mesh)_(.+)$")]
    private static partial Regex PeerName();
}
