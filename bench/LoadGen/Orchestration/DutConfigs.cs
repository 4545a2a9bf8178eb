using System.Text;

namespace Calico.Bgp.LoadGen.Orchestration;

public enum DutKind
{
    Ours,
    Bird2,
    Bird16,
    Gobgp,
    Frr,
}

/// <summary>What the DUT plays: P1 transit, a route reflector (P2, P4), a Calico mesh node with a kernel protocol (P3), or one with Calico's device and direct protocols too (P6).</summary>
public enum DutRole
{
    PassThrough,
    Reflector,
    MeshNode,
    IdleNode,
}

/// <summary>
/// Equivalent configs for each daemon and role. All sessions are passive on the DUT (the
/// generator connects), directly connected, import/export everything; the reflector marks every
/// neighbor a client with one cluster id and ADD-PATH on. Ours reads the BIRD 1.6 dialect, as
/// Calico's confd writes it. The kernel protocol has <c>merge paths on</c>, as in every config confd
/// writes (../shared/calico-bird-configs): it decides whether a route may wait for its prefix's
/// other paths before it is written.
/// </summary>
public static class DutConfigs
{
    private const uint SenderAs = 65001;
    private const uint MonitorAs = 65002;

    /// <param name="recursive">BIRD's and ours: <c>gateway recursive</c>, next hops resolved through a direct protocol's routes.</param>
    public static string For(DutKind kind, DutRole role, int peers, bool v6, bool recursive = false) => kind switch
    {
        DutKind.Ours or DutKind.Bird16 => Bird16(role, peers, v6, recursive),
        DutKind.Bird2 => Bird2(role, peers, v6, recursive),
        DutKind.Gobgp => Gobgp(role, peers, v6),
        DutKind.Frr => Frr(role, peers, v6),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static (string Address, uint As)[] Neighbors(DutRole role, int peers, bool v6) => role == DutRole.PassThrough
        ? [(Topology.Speaker(0, v6), SenderAs), (Topology.Speaker(1, v6), MonitorAs)]
        : [.. Enumerable.Range(0, peers).Select(i => (Topology.Speaker(i, v6), Topology.DutAs))];

    private static string Bird16(DutRole role, int peers, bool v6, bool recursive)
    {
        var sb = new StringBuilder($"router id {Topology.DutV4};\nprotocol device {{ scan time 2; }}\n");
        if (role is DutRole.MeshNode or DutRole.IdleNode)
            sb.Append("protocol kernel { learn; persist; scan time 2; import all; export all; graceful restart; merge paths on; }\n");
        if (role == DutRole.IdleNode || recursive)
            sb.Append("protocol direct { interface -\"cali*\", -\"kube-ipvs*\", \"*\"; }\n");
        var rr = role == DutRole.Reflector ? $"  rr client;\n  rr cluster id {Topology.ClusterId};\n  add paths on;\n" : "";
        sb.Append($$"""
            template bgp tpl {
              local as {{Topology.DutAs}};
              passive on;
              direct;
              gateway {{(recursive ? "recursive" : "direct")}};
            {{rr}}  import all;
              export all;
            }

            """);
        var i = 0;
        foreach (var (address, asn) in Neighbors(role, peers, v6))
            sb.Append($"protocol bgp p{i++} from tpl {{ neighbor {address} as {asn}; }}\n");
        return sb.ToString();
    }

    private static string Bird2(DutRole role, int peers, bool v6, bool recursive)
    {
        var family = v6 ? "ipv6" : "ipv4";
        var sb = new StringBuilder($"router id {Topology.DutV4};\nprotocol device {{ scan time 2; }}\n");
        if (role is DutRole.MeshNode or DutRole.IdleNode)
            sb.Append($"protocol kernel {{ {family} {{ import all; export all; }}; learn; persist; scan time 2; graceful restart; merge paths on; }}\n");
        if (role == DutRole.IdleNode || recursive)
            sb.Append($"protocol direct {{ {family}; interface -\"cali*\", -\"kube-ipvs*\", \"*\"; }}\n");
        var rr = role == DutRole.Reflector ? $"  rr client;\n  rr cluster id {Topology.ClusterId};\n" : "";
        var addPaths = role == DutRole.Reflector ? " add paths on;" : "";
        sb.Append($$"""
            template bgp tpl {
              local as {{Topology.DutAs}};
              passive on;
              direct;
            {{rr}}  {{family}} { import all; export all; gateway {{(recursive ? "recursive" : "direct")}};{{addPaths}} };
            }

            """);
        var i = 0;
        foreach (var (address, asn) in Neighbors(role, peers, v6))
            sb.Append($"protocol bgp p{i++} from tpl {{ neighbor {address} as {asn}; }}\n");
        return sb.ToString();
    }

    private static string Gobgp(DutRole role, int peers, bool v6)
    {
        var family = v6 ? "ipv6-unicast" : "ipv4-unicast";
        var sb = new StringBuilder($"""
            [global.config]
              as = {Topology.DutAs}
              router-id = "{Topology.DutV4}"
            [global.apply-policy.config]
              default-import-policy = "accept-route"
              default-export-policy = "accept-route"

            """);
        foreach (var (address, asn) in Neighbors(role, peers, v6))
        {
            sb.Append($"""
                [[neighbors]]
                  [neighbors.config]
                    neighbor-address = "{address}"
                    peer-as = {asn}
                  [neighbors.transport.config]
                    passive-mode = true
                  [[neighbors.afi-safis]]
                    [neighbors.afi-safis.config]
                      afi-safi-name = "{family}"

                """);
            if (role == DutRole.Reflector)
            {
                sb.Append($"""
                        [neighbors.afi-safis.add-paths.config]
                          receive = true
                          send-max = 8
                      [neighbors.route-reflector.config]
                        route-reflector-client = true
                        route-reflector-cluster-id = "{Topology.ClusterId}"

                    """);
            }
        }
        return sb.ToString();
    }

    private static string Frr(DutRole role, int peers, bool v6)
    {
        var family = v6 ? "ipv6" : "ipv4";
        var sb = new StringBuilder($"""
            hostname dut
            router bgp {Topology.DutAs}
             bgp router-id {Topology.DutV4}
             no bgp ebgp-requires-policy
             no bgp default ipv4-unicast
             no bgp network import-check

            """);
        if (role == DutRole.Reflector)
            sb.Append($" bgp cluster-id {Topology.ClusterId}\n");
        var neighbors = Neighbors(role, peers, v6);
        foreach (var (address, asn) in neighbors)
            sb.Append($" neighbor {address} remote-as {asn}\n neighbor {address} passive\n neighbor {address} advertisement-interval 0\n");
        sb.Append($" address-family {family} unicast\n");
        foreach (var (address, _) in neighbors)
        {
            sb.Append($"  neighbor {address} activate\n");
            if (role == DutRole.Reflector)
                sb.Append($"  neighbor {address} route-reflector-client\n  neighbor {address} addpath-tx-all-paths\n");
        }
        sb.Append(" exit-address-family\n");
        return sb.ToString();
    }
}
