using System.Text.RegularExpressions;

namespace Calico.Bgp.Lab;

/// <summary>
/// Calico's BIRD parsers ported from Go (shared/CALICO.md c.2–c.4): <c>scanBIRDPeers</c> +
/// <c>unmarshalBIRD</c> (readiness, calicoctl, status reporter), <c>GRInProgress</c>,
/// <c>scanBIRDStatus</c>, <c>scanBIRDRoutes</c>, and the decisions made from them (readiness,
/// liveness). They throw where Calico's return an error. Each takes a raw socket reply, banner first,
/// as Calico's Go reads it.
/// </summary>
public static partial class CalicoParsers
{
    public sealed record Peer(string PeerIp, string Name, string State, string Since, string BgpState, string Info);

    /// <summary>Every line of a raw reply, banner included, as Calico's scanner reads it.</summary>
    private static string[] Lines(string raw) => raw.TrimEnd('\n').Split('\n');

    public static List<Peer> ScanBirdPeers(string raw)
    {
        var peers = new List<Peer>();
        foreach (var line in Lines(raw))
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
            if (columns.Length < 6 || columns[1] != "BGP")
                continue;
            var m = PeerName().Match(columns[0]);
            if (!m.Success)
                continue;
            var ip = m.Groups[2].Value.Contains("__", StringComparison.Ordinal) || m.Groups[2].Value.Count(c => c == '_') != 3
                ? m.Groups[2].Value.Replace('_', ':')
                : m.Groups[2].Value.Replace('_', '.');
            peers.Add(new Peer(ip, columns[0], columns[3], columns[4], columns[5], string.Join(' ', columns.Skip(6))));
        }
        return peers;
    }

    /// <summary><c>GRInProgress</c>: true on a 0024 line, false at 0013.</summary>
    public static bool GrInProgress(string raw)
    {
        foreach (var line in Lines(raw))
        {
            if (line.StartsWith("0013", StringComparison.Ordinal))
                return false;
            if (line.StartsWith("0024", StringComparison.Ordinal))
                return true;
            if (line.StartsWith("0001", StringComparison.Ordinal) || line.StartsWith("1000", StringComparison.Ordinal)
                || line.StartsWith("1011", StringComparison.Ordinal) || line.StartsWith(' '))
                continue;
            throw new FormatException($"unexpected output line from BIRD: {line}");
        }
        throw new FormatException("show status ended without 0013");
    }

    public sealed record Status(bool Ready, string? Version, string? RouterId, string? ServerTime, string? LastBoot, string? LastReconfig);

    /// <summary><c>scanBIRDStatus</c> (status reporter).</summary>
    public static Status ScanBirdStatus(string raw)
    {
        var s = new Status(false, null, null, null, null, null);
        foreach (var line in Lines(raw))
        {
            string text;
            if (line.StartsWith("0013", StringComparison.Ordinal))
                break;
            if (line.StartsWith("0001", StringComparison.Ordinal) || line.StartsWith("1000", StringComparison.Ordinal) || line.StartsWith("1011", StringComparison.Ordinal))
                text = line[5..];
            else if (line.StartsWith(' '))
                text = line[1..];
            else
                break; // Calico logs a warning and keeps what it read (e.g. at 0024 during graceful restart).
            if (text.Contains("BIRD", StringComparison.Ordinal) && text.Contains("ready", StringComparison.Ordinal))
                s = s with { Ready = true };
            else if (text.StartsWith("BIRD v", StringComparison.Ordinal))
                s = s with { Version = text["BIRD ".Length..] };
            else if (text.StartsWith("Router ID is ", StringComparison.Ordinal))
                s = s with { RouterId = text["Router ID is ".Length..] };
            else if (text.StartsWith("Current server time is ", StringComparison.Ordinal))
                s = s with { ServerTime = text["Current server time is ".Length..] };
            else if (text.StartsWith("Last reboot on ", StringComparison.Ordinal))
                s = s with { LastBoot = text["Last reboot on ".Length..] };
            else if (text.StartsWith("Last reconfiguration on ", StringComparison.Ordinal))
                s = s with { LastReconfig = text["Last reconfiguration on ".Length..] };
        }
        return s;
    }

    public sealed record RouteRow(string Dest, string Type, string? Gateway, string? Interface, string From, bool Primary);

    /// <summary><c>scanBIRDRoutes</c>: the one-line route form, with <c>from</c> checked as Calico does.</summary>
    public static List<RouteRow> ScanBirdRoutes(string raw)
    {
        var rows = new List<RouteRow>();
        var lastDest = "";
        foreach (var line in Lines(raw))
        {
            string text;
            if (line.StartsWith("0000", StringComparison.Ordinal))
                break;
            if (line.StartsWith("0001", StringComparison.Ordinal))
                continue;
            if (line.StartsWith("1007", StringComparison.Ordinal))
                text = line[5..];
            else if (line.StartsWith(' '))
                text = line[1..];
            else
                throw new FormatException($"unexpected output line from BIRD: {line}");
            RouteRow? row = null;
            if (Via().Match(text) is { Success: true } v)
                row = new RouteRow(v.Groups["dest"].Value, "via", v.Groups["gateway"].Value, v.Groups["iface"].Value, v.Groups["from"].Value, false);
            else if (Dev().Match(text) is { Success: true } d)
                row = new RouteRow(d.Groups["dest"].Value, "dev", null, d.Groups["iface"].Value, d.Groups["from"].Value, false);
            else if (Blackhole().Match(text) is { Success: true } b)
                row = new RouteRow(b.Groups["dest"].Value, "blackhole", null, null, b.Groups["from"].Value, false);
            else if (Unreachable().Match(text) is { Success: true } u)
                row = new RouteRow(u.Groups["dest"].Value, "unreachable", null, null, u.Groups["from"].Value, false);
            if (row is null)
                throw new FormatException($"unparsable route: {text}");
            if (row.Dest.Length == 0)
                row = row with { Dest = lastDest };
            lastDest = row.Dest;
            if (!row.From.StartsWith("kernel", StringComparison.Ordinal) && !row.From.StartsWith("static", StringComparison.Ordinal)
                && !row.From.StartsWith("direct", StringComparison.Ordinal) && !PeerName().IsMatch(row.From))
                throw new FormatException($"route from unknown source {row.From}");
            rows.Add(row with { Primary = text.Contains("] *", StringComparison.Ordinal) });
        }
        return rows;
    }

    /// <summary>
    /// <c>checkBIRDReady</c> (CALICO.md c.2), after the nodename file was found: null when ready,
    /// else Calico's reason. <paramref name="showStatus"/> is asked only when Calico asks it: inside
    /// the start-up window (<c>--threshold-time</c>) once every peer is Established.
    /// </summary>
    public static string? ReadinessError(string showProtocols, bool insideStartupWindow, Func<string> showStatus)
    {
        var peers = ScanBirdPeers(showProtocols);
        if (peers.Count == 0)
            return null;
        if (insideStartupWindow)
        {
            var unestablished = peers.Where(p => p.BgpState != "Established").Select(p => p.PeerIp).ToList();
            if (unestablished.Count > 0)
                return $"BGP not established with {string.Join(",", unestablished)}";
            return GrInProgress(showStatus()) ? "graceful restart in progress" : null;
        }
        return peers.Any(p => p.BgpState == "Established") ? null : "BGP not established with any peer";
    }

    /// <summary>
    /// The BIRD half of <c>--bird-live</c> (CALICO.md c.3): <c>birdcl -s SOCKET show status</c> exits 0
    /// and its standard output starts with <c>BIRD</c>.
    /// </summary>
    public static bool Live(int birdclExitCode, string birdclStdout) =>
        birdclExitCode == 0 && birdclStdout.StartsWith("BIRD", StringComparison.Ordinal);

    /// <summary>
    /// calicoctl's <c>printBIRDPeers</c> rows: peer address, peer type (from the name's prefix),
    /// state, since, info (BGP state and the rest of the columns).
    /// </summary>
    public static List<string[]> CalicoctlRows(string showProtocols) =>
        [.. ScanBirdPeers(showProtocols).Select(p => new[]
        {
            p.PeerIp,
            p.Name.Split('_')[0] switch { "Mesh" => "node-to-node mesh", "Node" => "node specific", _ => "global" },
            p.State,
            p.Since,
            (p.BgpState + " " + p.Info).Trim(),
        })];

    /// <summary>
    /// The status reporter's peer details (CALICO.md c.4): from a <c>show protocols all NAME</c> reply,
    /// the value of the first line containing <c>BGP state:</c> and of <c>Neighbor address:</c>.
    /// </summary>
    public static (string? BgpState, string? NeighborAddress) ScanProtocolDetail(string raw)
    {
        string? state = null, neighbor = null;
        foreach (var line in Lines(raw))
        {
            if (line.StartsWith("0000", StringComparison.Ordinal))
                break;
            if (state is null && line.Contains("BGP state:", StringComparison.Ordinal))
                state = line.Replace("BGP state:", "", StringComparison.Ordinal).Trim();
            else if (neighbor is null && line.Contains("Neighbor address:", StringComparison.Ordinal))
                neighbor = line.Replace("Neighbor address:", "", StringComparison.Ordinal).Trim();
        }
        return (state, neighbor);
    }

    [GeneratedRegex(@"^(Global|Node|Mesh)_(.+)$")]
    private static partial Regex PeerName();

    [GeneratedRegex(@"(?<dest>\S*)\s*via\s(?<gateway>\S*)\s*on\s(?<iface>.*)\s\[(?<from>\S*)\s.*\].*")]
    private static partial Regex Via();

    [GeneratedRegex(@"(?<dest>\S*)\s*dev\s(?<iface>\S*)\s*\[(?<from>\S*)\s.*\].*")]
    private static partial Regex Dev();

    [GeneratedRegex(@"(?<dest>\S*)\s*blackhole\s*\[(?<from>\S*)\s.*\].*")]
    private static partial Regex Blackhole();

    [GeneratedRegex(@"(?<dest>\S*)\s*unreachable\s*\[(?<from>\S*)\s.*\].*")]
    private static partial Regex Unreachable();
}
