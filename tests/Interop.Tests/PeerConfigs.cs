namespace Calico.Bgp.Interop.Tests;

/// <summary>Configs of the reference peers, shared by the interop tests.</summary>
internal static class PeerConfigs
{
    /// <summary>BIRD 2: one iBGP/eBGP session, optional static blackholes exported.</summary>
    public static string Bird2(string routerId, string localAddress, uint localAs, string neighbor, uint peerAs, params string[] blackholes)
    {
        var statics = string.Concat(blackholes.Select(p => $"  route {p} blackhole;\n"));
        return $$"""
            router id {{routerId}};
            protocol device { scan time 2; }
            protocol static {
              ipv4;
            {{statics}}}
            protocol bgp peer1 {
              local {{localAddress}} as {{localAs}};
              neighbor {{neighbor}} as {{peerAs}};
              connect retry time 1;
              direct;
              ipv4 { import all; export all; };
            }
            """;
    }

    /// <summary>BIRD 1.6: same shape, in its single-family dialect.</summary>
    public static string Bird16(string routerId, string localAddress, uint localAs, string neighbor, uint peerAs, params string[] blackholes)
    {
        var statics = string.Concat(blackholes.Select(p => $"  route {p} blackhole;\n"));
        return $$"""
            router id {{routerId}};
            protocol device { scan time 2; }
            protocol static {
            {{statics}}}
            protocol bgp peer1 {
              local {{localAddress}} as {{localAs}};
              neighbor {{neighbor}} as {{peerAs}};
              connect retry time 1;
              import all;
              export all;
              direct;
            }
            """;
    }

    /// <summary>GoBGP: one neighbor; routes are added through its CLI.</summary>
    public static string Gobgp(string routerId, uint localAs, string neighbor, uint peerAs) => $"""
        [global.config]
          as = {localAs}
          router-id = "{routerId}"
        [[neighbors]]
          [neighbors.config]
            neighbor-address = "{neighbor}"
            peer-as = {peerAs}
          [neighbors.timers.config]
            connect-retry = 1
        """;

    /// <summary>FRR bgpd: one neighbor, blackholes announced with network statements.</summary>
    public static string Frr(string routerId, uint localAs, string neighbor, uint peerAs, params string[] networks)
    {
        var nets = string.Concat(networks.Select(p => $"  network {p}\n"));
        return $"""
            hostname frr
            router bgp {localAs}
             bgp router-id {routerId}
             no bgp ebgp-requires-policy
             no bgp network import-check
             neighbor {neighbor} remote-as {peerAs}
             neighbor {neighbor} timers connect 1
             address-family ipv4 unicast
            {nets} exit-address-family
            """;
    }
}
