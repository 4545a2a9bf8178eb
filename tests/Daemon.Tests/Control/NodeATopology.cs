using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>
/// Node A of the transcript lab (shared/bird-cli-transcripts), converged: static1, kernel1, device1,
/// direct1, two established mesh peers and an unreachable Node_10_99_0_50, with its nine routes.
/// </summary>
internal static class NodeATopology
{
    public static FakeControlBackend Build(out ManualTime time)
    {
        time = new ManualTime(ManualTime.At("10:59:43"));
        var b = new FakeControlBackend(time)
        {
            StartedAt = ManualTime.At("10:59:43"),
            LastReconfigured = ManualTime.At("10:59:43"),
        };
        var static1 = b.Add("static1", "Static", 200);
        var kernel1 = b.Add("kernel1", "Kernel", 10);
        var device1 = b.Add("device1", "Device", 240);
        var direct1 = b.Add("direct1", "Direct", 240);
        var mesh1 = b.Add("Mesh_10_99_0_1", "BGP", 100);
        var mesh3 = b.Add("Mesh_10_99_0_3", "BGP", 100);
        var node50 = b.Add("Node_10_99_0_50", "BGP", 100);
        foreach (var p in new[] { static1, kernel1, device1, direct1 })
            p.Set(ProtocolState.Up);
        foreach (var p in new[] { mesh1, mesh3 })
            p.Set(ProtocolState.Start, "Active        Socket: Connection refused");
        node50.Set(ProtocolState.Start, "Active        Socket: Connection refused");
        time.Now = ManualTime.At("11:00:41");
        mesh1.Set(ProtocolState.Up, "Established   ");
        time.Now = ManualTime.At("11:00:51");
        mesh3.Set(ProtocolState.Up, "Established   ");

        var blackhole = new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole };
        Add(b, "10.66.2.0/24", blackhole, static1, "10:59:43");
        Add(b, "10.65.2.0/26", blackhole, static1, "10:59:43");
        Add(b, "10.66.3.0/24", Bgp("10.99.0.3", 2147482623), mesh3, "11:00:51");
        Add(b, "10.65.3.0/26", Bgp("10.99.0.3", 2147482623), mesh3, "11:00:51");
        Add(b, "10.66.1.0/24", Bgp("10.99.0.1", 2147482623), mesh1, "11:00:41");
        Add(b, "10.65.1.0/26", Bgp("10.99.0.1", 2147482623), mesh1, "11:00:41");
        Add(b, "10.65.1.7/32", Bgp("10.99.0.1", 2147483647), mesh1, "11:00:41", preference: 200);
        Add(b, "10.65.2.5/32", new PathAttributes { Source = RouteSource.Inherit, Dest = RouteDest.Device, Interface = "cali1a2b3c4d5e6", KrtSource = 3, KrtMetric = 0 }, kernel1, "10:59:44");
        Add(b, "10.99.0.0/24", new PathAttributes { Source = RouteSource.Device, Dest = RouteDest.Device, Interface = "eth0" }, direct1, "10:59:43");

        static1.Detail = Basic("ACCEPT", "REJECT");
        kernel1.Detail = Basic("ACCEPT", "calico_kernel_programming") with { RouteStats = Stats(1, 1, 9, 2, 0, 7) };
        device1.Detail = Basic("ACCEPT", "REJECT");
        direct1.Detail = Basic("ACCEPT", "REJECT");
        mesh1.Detail = Peer("10.99.0.1", established: true, ["    Hold timer:       195/240", "    Keepalive timer:  42/80"]) with { RouteStats = Stats(3, 3, 9, 5, 1, 3) };
        mesh3.Detail = Peer("10.99.0.3", established: true, ["    Hold timer:       159/240", "    Keepalive timer:  27/80"]) with { RouteStats = Stats(2, 2, 9, 5, 1, 3) };
        node50.Detail = Peer("10.99.0.50", established: false, ["    Connect delay:    1/2", "    Last error:       Socket: Connection refused"]);
        SetCounts(static1, 2, 0);
        SetCounts(kernel1, 1, 7);
        SetCounts(direct1, 1, 0);
        SetCounts(mesh1, 3, 3);
        SetCounts(mesh3, 2, 3);
        // static1: 2 updates received and accepted.
        static1.Stats.CountImportUpdate(true);
        static1.Stats.CountImportUpdate(true);
        direct1.Stats.CountImportUpdate(true);
        b.SymbolList.Add(new ControlSymbol("calico_kernel_programming", "filter"));
        return b;
    }

    private static void SetCounts(FakeProtocol p, long imported, long exported)
    {
        p.Stats.AddImported(imported);
        p.Stats.AddExported(exported);
    }

    private static RouteChangeStats Stats(long importUpdates, long importAccepted, long exportReceived, long exportRejected, long exportFiltered, long exportAccepted) =>
        new(importUpdates, 0, 0, importUpdates - importAccepted, importAccepted, 0, 0, 0, 0, exportReceived, exportRejected, exportFiltered, exportAccepted, 0, 0);

    private static ProtocolDetail Basic(string import, string export) => new() { ImportFilter = import, ExportFilter = export };

    private static ProtocolDetail Peer(string address, bool established, string[] tail)
    {
        var lines = new List<string>
        {
            $"  BGP state:          {(established ? "Established" : "Active")}",
            $"    Neighbor address: {address}",
            "    Neighbor AS:      64512",
        };
        if (established)
        {
            lines.Add($"    Neighbor ID:      {address}");
            lines.Add("    Neighbor caps:    refresh enhanced-refresh restart-able llgr-aware AS4 add-path-rx add-path-tx");
            lines.Add("    Session:          internal multihop AS4 add-path-rx add-path-tx");
            lines.Add("    Source address:   10.99.0.2");
        }
        lines.AddRange(tail);
        return new ProtocolDetail
        {
            Description = "Connection to BGP peer",
            ImportFilter = "(unnamed)",
            ExportFilter = "(unnamed)",
            ExtraLines = lines,
        };
    }

    private static PathAttributes Bgp(string nextHop, uint localPref) => new()
    {
        Source = RouteSource.Bgp,
        Dest = RouteDest.Router,
        Gateway = IpAddr.Parse(nextHop),
        Interface = "eth0",
        From = IpAddr.Parse(nextHop),
        Origin = BgpOrigin.Igp,
        AsPath = AsPath.Empty,
        NextHop = IpAddr.Parse(nextHop),
        LocalPref = localPref,
        // As `gateway recursive` resolves a peer on eth0's connected network (BIRD prints "/0").
        Recursive = true,
        IgpMetric = 0,
    };

    private static void Add(FakeControlBackend b, string prefix, PathAttributes attributes, Protocol protocol, string since, int? preference = null) =>
        b.Table.Update(Route.Create(Prefix.Parse(prefix), b.Table.Attributes.Intern(attributes), protocol, preference: preference, since: ManualTime.At(since)));
}
