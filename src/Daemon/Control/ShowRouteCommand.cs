using System.Text.RegularExpressions;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Control;

/// <summary>
/// <c>show route [PREFIX | for PREFIX|IP] [table T] [filter F | where COND] [all] [primary]
/// [filtered] [(export|preexport|noexport) P] [protocol P] [stats|count]</c> (BIRD 1.6 <c>rt_show</c>).
/// </summary>
internal static partial class ShowRouteCommand
{
    private enum ExportMode
    {
        None,
        PreExport,
        Export,
        NoExport,
    }

    private sealed class Options
    {
        public Prefix? Prefix;
        public IpAddr? ForAddress;
        public bool For;
        public RouteFilter? Filter;
        public bool Verbose;
        public bool Primary;
        public bool Filtered;
        public ExportMode Export;
        public Protocol? ExportProtocol;
        public Protocol? ShowProtocol;
        /// <summary>0 = list, 1 = list and count (<c>stats</c>), 2 = count only (<c>count</c>).</summary>
        public int Stats;
    }

    public static async ValueTask ExecuteAsync(CommandTokens tokens, CommandContext ctx)
    {
        var o = Parse(tokens, ctx);
        var table = ctx.Backend.Table;
        if (o.ExportProtocol is { } ep && ep.State != ProtocolState.Up)
        {
            ctx.Reply.Final(8005, "Protocol is down");
            return;
        }
        var counters = new Counters { Gateways = new GatewayInterfaces(table) };
        if (o.Prefix is { } prefix)
        {
            var entry = o.For ? LongestMatch(table, prefix.Address, prefix.Length) : table.Find(prefix);
            if (entry is null)
            {
                ctx.Reply.Final(8001, "Network not in table");
                return;
            }
            ShowNet(entry, o, ctx, counters);
            ctx.Reply.Final(0, "");
            return;
        }
        if (o.ForAddress is { } address)
        {
            var entry = LongestMatch(table, address, address.BitLength);
            if (entry is null)
            {
                ctx.Reply.Final(8001, "Network not in table");
                return;
            }
            ShowNet(entry, o, ctx, counters);
            ctx.Reply.Final(0, "");
            return;
        }
        // Sorted by prefix: stable output, unlike BIRD's hash order, which no consumer relies on.
        var entries = table.Entries.ToArray();
        Array.Sort(entries, static (a, b) => a.Prefix.CompareTo(b.Prefix));
        foreach (var entry in entries)
        {
            ShowNet(entry, o, ctx, counters);
            await ctx.FlushIfNeededAsync().ConfigureAwait(false);
        }
        if (o.Stats > 0)
            ctx.Reply.Final(14, $"{counters.Shown} of {counters.Routes} routes for {counters.Nets} networks");
        else
            ctx.Reply.Final(0, "");
    }

    private sealed class Counters
    {
        public int Routes;
        public int Nets;
        public int Shown;
        public GatewayInterfaces? Gateways;
    }

    /// <summary>BIRD 1.6's <c>rt_show_net</c>.</summary>
    private static void ShowNet(RouteEntry entry, Options o, CommandContext ctx, Counters counters)
    {
        var routes = entry.Routes;
        if (routes.IsEmpty)
            return;
        var now = ctx.Time.GetUtcNow();
        var zone = ctx.Time.LocalTimeZone;
        var prefixColumn = entry.Prefix.ToString();
        counters.Nets++;
        for (var i = 0; i < routes.Length; i++)
        {
            // We keep no import-filtered routes in the table, so "filtered" lists nothing.
            if (o.Filtered)
                break;
            counters.Routes++;
            var route = routes[i];
            var show = true;
            if (o.ExportProtocol is { } ep)
            {
                var preview = ctx.Backend.PreviewExport(ep, route);
                show = o.Export switch
                {
                    ExportMode.PreExport => preview.Verdict != ExportVerdict.Refused,
                    ExportMode.Export => preview.Verdict == ExportVerdict.Accepted,
                    _ => preview.Verdict == ExportVerdict.Filtered,
                };
                if (preview.Verdict == ExportVerdict.Accepted)
                    route = preview.Route;
            }
            if (show && o.ShowProtocol is { } sp && !ReferenceEquals(route.Protocol, sp))
                show = false;
            if (show && o.Filter is { } filter)
            {
                var filtered = filter.Apply(route, ctx.Backend.Table.Attributes);
                show = filtered is not null;
                route = filtered ?? route;
            }
            if (show)
            {
                counters.Shown++;
                if (o.Stats < 2)
                {
                    ctx.Reply.Line(1007, RouteFormatter.Line(prefixColumn, route, i == 0, now, zone, counters.Gateways));
                    RouteFormatter.WriteNextHops(ctx.Reply, route.Attributes);
                    if (o.Verbose)
                        RouteFormatter.WriteAttributes(ctx.Reply, route);
                }
                prefixColumn = "";
            }
            if (o.Primary)
                break;
        }
    }

    private static RouteEntry? LongestMatch(RoutingTable table, IpAddr address, int maxLength)
    {
        for (var len = maxLength; len >= 0; len--)
        {
            if (table.Find(new Prefix(address, len)) is { IsEmpty: false } e)
                return e;
        }
        return null;
    }

    private static Options Parse(CommandTokens tokens, CommandContext ctx)
    {
        var o = new Options();
        while (!tokens.AtEnd)
        {
            var t = tokens.Next();
            if (t.Kind == TokenKind.Other)
            {
                SetPrefix(o, ParsePrefix(t.Value), forLookup: false);
                continue;
            }
            if (t.Kind != TokenKind.Word)
                throw CommandSyntaxException.Syntax();
            switch (t.Value.ToLowerInvariant())
            {
                case "for":
                    var target = tokens.Next();
                    if (target.Kind != TokenKind.Other)
                        throw CommandSyntaxException.Syntax();
                    if (target.Value.Contains('/'))
                        SetPrefix(o, ParsePrefix(target.Value), forLookup: true);
                    else
                    {
                        if (o.Prefix is not null || o.ForAddress is not null)
                            throw new CommandSyntaxException(9001, "Only one prefix expected");
                        o.ForAddress = ParseAddress(target.Value);
                    }
                    break;
                case "table":
                    var name = tokens.Next();
                    if (name.Value != ctx.Backend.Table.Name)
                        throw new CommandSyntaxException(9001, $"{name.Value} is not a table");
                    break;
                case "filter":
                    var fname = tokens.Next();
                    if (o.Filter is not null)
                        throw new CommandSyntaxException(9001, "Filter specified twice");
                    o.Filter = (fname.Kind == TokenKind.Word ? ctx.Backend.FindFilter(fname.Value) : null)
                        ?? throw new CommandSyntaxException(9001, $"{fname.Value} is not a filter");
                    break;
                case "where":
                    if (o.Filter is not null)
                        throw new CommandSyntaxException(9001, "Filter specified twice");
                    if (!ctx.Backend.TryCompileWhere(tokens.TakeRest(), out var compiled, out var error))
                        throw new CommandSyntaxException(9001, error);
                    o.Filter = compiled;
                    break;
                case "all":
                    o.Verbose = true;
                    break;
                case "primary":
                    o.Primary = true;
                    break;
                case "filtered":
                    o.Filtered = true;
                    break;
                case "export":
                case "preexport":
                case "noexport":
                    if (o.ExportProtocol is not null)
                        throw new CommandSyntaxException(9001, "Protocol specified twice");
                    o.Export = t.Value.ToLowerInvariant() switch { "export" => ExportMode.Export, "preexport" => ExportMode.PreExport, _ => ExportMode.NoExport };
                    o.ExportProtocol = ReadProtocol(tokens, ctx);
                    break;
                case "protocol":
                    if (o.ShowProtocol is not null)
                        throw new CommandSyntaxException(9001, "Protocol specified twice");
                    o.ShowProtocol = ReadProtocol(tokens, ctx);
                    break;
                case "stats":
                    o.Stats = 1;
                    break;
                case "count":
                    o.Stats = 2;
                    break;
                default:
                    throw CommandSyntaxException.Syntax();
            }
        }
        return o;
    }

    private static void SetPrefix(Options o, Prefix prefix, bool forLookup)
    {
        if (o.Prefix is not null || o.ForAddress is not null)
            throw new CommandSyntaxException(9001, "Only one prefix expected");
        o.Prefix = prefix;
        o.For = forLookup;
    }

    private static Protocol ReadProtocol(CommandTokens tokens, CommandContext ctx)
    {
        var t = tokens.Next();
        if (t.Kind != TokenKind.Word)
            throw CommandSyntaxException.Syntax();
        return ctx.FindProtocol(t.Value) ?? throw new CommandSyntaxException(9001, $"{t.Value} is not a protocol");
    }

    /// <summary>An address as BIRD's lexer reads it, with its error texts.</summary>
    private static IpAddr ParseAddress(string text)
    {
        if (IpAddr.TryParse(text, out var address))
            return address;
        if (DottedQuad().IsMatch(text))
            throw new CommandSyntaxException(9001, $"Invalid IPv4 address {text}");
        if (text.Contains(':'))
            throw new CommandSyntaxException(9001, $"Invalid IPv6 address {text}");
        throw CommandSyntaxException.Syntax();
    }

    private static Prefix ParsePrefix(string text)
    {
        var slash = text.IndexOf('/');
        if (slash < 0)
            throw CommandSyntaxException.Syntax();
        var address = ParseAddress(text[..slash]);
        if (!int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, null, out var length))
            throw CommandSyntaxException.Syntax();
        if (length > address.BitLength)
            throw new CommandSyntaxException(9001, $"Invalid prefix length {length}");
        if (Rib.Prefix.HasHostBits(address, length))
            throw new CommandSyntaxException(9001, "Invalid prefix");
        return new Prefix(address, length);
    }

    [GeneratedRegex(@"^\d+\.\d+\.\d+\.\d+$")]
    private static partial Regex DottedQuad();
}
