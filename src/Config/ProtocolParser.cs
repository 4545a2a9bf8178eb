using Calico.Bgp.Config.Filters;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config;

/// <summary><c>protocol</c> and <c>template</c> blocks and their options.</summary>
internal sealed partial class Parser
{
    private static readonly string[] ProtocolTypes = ["kernel", "device", "direct", "static", "bgp"];

    private void ParseProtocol(bool template)
    {
        var keyword = Next();
        var kind = template ? "template" : "protocol";
        var typeToken = Peek();
        if (typeToken.Kind != TokenKind.Identifier || Array.IndexOf(ProtocolTypes, typeToken.Text) < 0)
            throw Error(typeToken, $"expected a protocol type (kernel, device, direct, static or bgp), found {typeToken.Describe()}");
        Next();
        var type = typeToken.Text;

        string name;
        var nameLocation = keyword.Location;
        if (Peek().IsSymbol && !Peek().IsWord("from"))
        {
            var nameToken = Next();
            name = nameToken.Text;
            nameLocation = nameToken.Location;
        }
        else if (template)
        {
            throw Expected("a template name");
        }
        else
        {
            name = NextAutoName(type);
        }

        ProtocolConfig config;
        string? templateName = null;
        if (AcceptWord("from"))
        {
            var from = ExpectSymbol("a template name after 'from'");
            if (!_ctx.Templates.TryGetValue(from.Text, out var baseConfig))
                throw Error(from, $"unknown template '{from.Text}'");
            // Each type's name is its keyword, capitalised (BGP, Kernel, …).
            if (!baseConfig.TypeName.Equals(type, StringComparison.OrdinalIgnoreCase))
                throw Error(from, $"template '{from.Text}' is a {baseConfig.TypeName.ToLowerInvariant()} template, not {type}");
            templateName = from.Text;
            // One copy of the template per protocol: a thousand neighbours from one template are a
            // thousand of these records, each a few hundred bytes.
            config = baseConfig with { Name = name, TemplateName = templateName, Location = keyword.Location };
        }
        else
        {
            config = NewConfig(type, name) with { Location = keyword.Location };
        }

        _ctx.Define(name, kind, nameLocation);
        ExpectPunct("{");
        while (!AcceptPunct("}"))
        {
            if (Peek().Kind == TokenKind.End)
                throw Error(Peek(), $"unterminated {kind} '{name}': expected '}}' before end of file");
            config = ParseProtocolOption(config, type);
        }

        if (template)
        {
            _ctx.Templates[name] = config;
            return;
        }
        if (config is BgpProtocolConfig bgp)
        {
            CheckBgp(bgp, keyword);
            if (bgp.ExportFilter is CompiledFilter compiled)
                config = bgp with { ExportFilter = new BgpExportFilter(compiled) };
        }
        _ctx.Protocols.Add(config);
    }

    private string NextAutoName(string type)
    {
        // BIRD names unnamed protocols kernel1, device1, … with one counter per type.
        while (true)
        {
            _ctx.AutoNameCounters[type] = _ctx.AutoNameCounters.GetValueOrDefault(type) + 1;
            var name = type + _ctx.AutoNameCounters[type];
            if (!_ctx.Symbols.ContainsKey(name))
                return name;
        }
    }

    private static ProtocolConfig NewConfig(string type, string name) => type switch
    {
        "kernel" => new KernelProtocolConfig { Name = name },
        "device" => new DeviceProtocolConfig { Name = name },
        "direct" => new DirectProtocolConfig { Name = name },
        "static" => new StaticProtocolConfig { Name = name },
        _ => new BgpProtocolConfig { Name = name },
    };

    private static void CheckBgp(BgpProtocolConfig bgp, Token at)
    {
        // BIRD 1.6 bgp_check_config.
        if (bgp.LocalAs == 0)
            throw Error(at, $"protocol '{bgp.Name}': local AS number must be set (local as N)");
        if (bgp.NeighborAs == 0 || bgp.NeighborAddress == default)
            throw Error(at, $"protocol '{bgp.Name}': neighbor must be configured (neighbor IP as N)");
        // Only reachable dual-stack: a single-family daemon takes one family's addresses only.
        var local = bgp.SourceAddress ?? bgp.LocalAddress;
        if (local is { } l && l.IsV6 != bgp.NeighborAddress.IsV6)
            throw Error(at, $"protocol '{bgp.Name}': source address {l} and neighbor {bgp.NeighborAddress} are of different families");
    }

    private ProtocolConfig ParseProtocolOption(ProtocolConfig config, string type)
    {
        ProtocolConfig? specific = config switch
        {
            KernelProtocolConfig k => ParseKernelOption(k),
            DeviceProtocolConfig d => ParseDeviceOption(d),
            DirectProtocolConfig d => ParseDirectOption(d),
            StaticProtocolConfig s => ParseStaticOption(s),
            BgpProtocolConfig b => ParseBgpOption(b),
            _ => null,
        };
        var result = specific ?? ParseCommonOption(config);
        if (result is null)
            throw Expected($"a {type} protocol option");
        return result;
    }

    /// <summary>Options of every protocol (BIRD's <c>proto_item</c>).</summary>
    private ProtocolConfig? ParseCommonOption(ProtocolConfig c)
    {
        var t = Peek();
        if (t.Kind != TokenKind.Identifier)
            return null;
        switch (t.Text)
        {
            case "disabled":
                Next();
                c = c with { Disabled = ParseBoolOption() };
                break;
            case "description":
                Next();
                c = c with { Description = ExpectString("a quoted description") };
                break;
            case "debug":
                Next();
                c = c with { Debug = ParseDebugFlags() };
                break;
            case "preference":
                Next();
                c = c with { Preference = (int)ExpectNumber("a preference", 0, 65535) };
                break;
            case "import" when Peek(1).IsWord("limit"):
                Next();
                Next();
                c = c with { ImportLimit = ParseImportLimit() };
                break;
            case "import":
                Next();
                c = c with { ImportFilter = ParseFilterSpec() };
                break;
            case "export":
                Next();
                c = c with { ExportFilter = ParseFilterSpec() };
                break;
            default:
                return null;
        }
        EndStatement();
        return c;
    }

    private ImportLimit? ParseImportLimit()
    {
        if (AcceptWord("off"))
            return null;
        var limit = (uint)ExpectNumber("a route count");
        var action = LimitAction.Disable;
        if (AcceptWord("action"))
        {
            var a = Peek();
            action = a.Text switch
            {
                "warn" => LimitAction.Warn,
                "block" => LimitAction.Block,
                "restart" => LimitAction.Restart,
                "disable" => LimitAction.Disable,
                _ => throw Expected("warn, block, restart or disable"),
            };
            Next();
        }
        return new ImportLimit(limit, action);
    }

    private DebugFlags ParseDebugFlags()
    {
        if (AcceptWord("all"))
            return DebugFlags.All;
        if (AcceptWord("off"))
            return DebugFlags.None;
        if (!AcceptPunct("{"))
            throw Expected("'all', 'off' or '{'");
        var flags = DebugFlags.None;
        do
        {
            var t = Peek();
            flags |= t.Text switch
            {
                "states" => DebugFlags.States,
                "routes" => DebugFlags.Routes,
                "filters" => DebugFlags.Filters,
                "interfaces" => DebugFlags.Interfaces,
                "events" => DebugFlags.Events,
                "packets" => DebugFlags.Packets,
                _ => throw Expected("a debug category (states, routes, filters, interfaces, events, packets)"),
            };
            Next();
        }
        while (AcceptPunct(","));
        ExpectPunct("}");
        return flags;
    }

    /// <summary><c>all</c>, <c>none</c>, <c>filter NAME</c>, <c>filter { … }</c> or <c>where EXPR</c>.</summary>
    private RouteFilter ParseFilterSpec()
    {
        if (AcceptWord("all"))
            return RouteFilter.AcceptAll;
        if (AcceptWord("none"))
            return RouteFilter.RejectAll;
        if (AcceptWord("where"))
            return ParseWhereFilter();
        if (!AcceptWord("filter"))
            throw Expected("'all', 'none', 'filter' or 'where'");
        if (Peek().IsPunct("{"))
            return ParseFilterBody(null);
        var name = ExpectSymbol("a filter name or '{'");
        if (!_ctx.Filters.TryGetValue(name.Text, out var def))
            throw Error(name, $"unknown filter '{name.Text}'");
        return def.Filter;
    }

    private KernelProtocolConfig? ParseKernelOption(KernelProtocolConfig k)
    {
        var t = Peek();
        switch (t.Text)
        {
            case "persist":
                Next();
                k = k with { Persist = ParseBoolOption() };
                break;
            case "learn":
                Next();
                k = k with { Learn = ParseBoolOption() };
                break;
            case "scan":
                Next();
                ExpectWord("time");
                k = k with { ScanTime = (int)ExpectNumber("a scan time in seconds", 1, int.MaxValue) };
                break;
            case "graceful":
                Next();
                ExpectWord("restart");
                k = k with { GracefulRestart = ParseBoolOption() };
                break;
            case "merge":
                Next();
                ExpectWord("paths");
                k = k with { MergePaths = ParseBoolOption() };
                if (AcceptWord("limit"))
                    k = k with { MergePathsLimit = (int)ExpectNumber("a next hop limit", 1, 255) };
                break;
            case "kernel":
                Next();
                ExpectWord("table");
                k = k with { KernelTable = (int)ExpectNumber("a kernel table id", 1, int.MaxValue) };
                break;
            case "device":
                Next();
                ExpectWord("routes");
                k = k with { DeviceRoutes = ParseBoolOption() };
                break;
            default:
                return null;
        }
        EndStatement();
        return k;
    }

    private DeviceProtocolConfig? ParseDeviceOption(DeviceProtocolConfig d)
    {
        if (!Peek().IsWord("scan"))
            return null;
        Next();
        ExpectWord("time");
        d = d with { ScanTime = (int)ExpectNumber("a scan time in seconds", 1, int.MaxValue) };
        EndStatement();
        return d;
    }

    private DirectProtocolConfig? ParseDirectOption(DirectProtocolConfig d)
    {
        if (!Peek().IsWord("interface"))
            return null;
        Next();
        var patterns = new List<InterfacePattern>(d.Interfaces);
        do
        {
            var exclude = AcceptPunct("-");
            patterns.Add(new InterfacePattern(exclude, ExpectString("a quoted interface pattern")));
        }
        while (AcceptPunct(","));
        EndStatement();
        return d with { Interfaces = new EquatableList<InterfacePattern>(patterns) };
    }

    private StaticProtocolConfig? ParseStaticOption(StaticProtocolConfig s)
    {
        if (!Peek().IsWord("route"))
            return null;
        Next();
        var prefix = ExpectPrefix("a route prefix");
        StaticRouteConfig route;
        var t = Peek();
        switch (t.Text)
        {
            case "blackhole" or "drop":
                Next();
                route = new StaticRouteConfig(prefix, RouteDest.Blackhole, null);
                break;
            case "unreachable":
                Next();
                route = new StaticRouteConfig(prefix, RouteDest.Unreachable, null);
                break;
            case "prohibit":
                Next();
                route = new StaticRouteConfig(prefix, RouteDest.Prohibit, null);
                break;
            case "multipath" when t.Kind == TokenKind.Identifier:
                Next();
                if (!Peek().IsWord("via"))
                    throw Expected("'via' (a multipath route needs at least one next hop)");
                route = new StaticRouteConfig(prefix, RouteDest.Multipath, null, ParseNextHops(prefix));
                break;
            case "via" when t.Kind == TokenKind.Identifier:
                var hops = ParseNextHops(prefix);
                // BIRD 2 spells a multipath route without the keyword (route P via A via B;); one
                // gateway with a weight other than 1 is a multipath route of one hop.
                route = hops.Count == 1 && hops[0].Weight == 1
                    ? new StaticRouteConfig(prefix, RouteDest.Router, hops[0].Gateway)
                    : new StaticRouteConfig(prefix, RouteDest.Multipath, null, hops);
                break;
            default:
                throw Expected("'via', 'multipath', 'blackhole', 'unreachable' or 'prohibit'");
        }
        EndStatement();
        return s with { Routes = new EquatableList<StaticRouteConfig>([.. s.Routes, route]) };
    }

    /// <summary>
    /// <c>via IP [weight N]</c>, one or more (BIRD 1.6's <c>stat_multipath</c>): weight 1..256, default
    /// 1. A gateway given twice is an error: the kernel refuses an IPv6 route with a repeated next hop.
    /// </summary>
    private EquatableList<StaticNextHopConfig> ParseNextHops(Prefix prefix)
    {
        var hops = new List<StaticNextHopConfig>();
        while (AcceptWord("via"))
        {
            var at = Peek();
            var gw = ExpectAddress("a gateway address");
            if (gw.IsV6 != prefix.IsV6)
                throw Error(at, $"gateway {gw} is not of the family of route {prefix}");
            if (hops.Any(h => h.Gateway == gw))
                throw Error(at, $"next hop {gw} is given twice");
            var weight = 1;
            if (Peek().IsWord("weight"))
            {
                Next();
                var w = Peek();
                if (w.Kind != TokenKind.Number)
                    throw Expected("a weight");
                Next();
                if (w.Number is < 1 or > 256)
                    throw Error(w, "Weight must be in range 1-256");
                weight = (int)w.Number;
            }
            hops.Add(new StaticNextHopConfig(gw, weight));
        }
        return new EquatableList<StaticNextHopConfig>(hops);
    }
}
