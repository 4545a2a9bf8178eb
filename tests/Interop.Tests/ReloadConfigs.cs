namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// The reload scenario's configs: our node 10.0.0.1 peering iBGP with three BIRD 2 nodes on one
/// switch, in Calico's shape (kernel with <c>calico_kernel_programming</c>, a BGP template, inline
/// per-peer filters). Each edit the tests make is one argument.
/// </summary>
internal static class ReloadConfigs
{
    public const string Peer2 = "Node_10_0_0_2";
    public const string Peer3 = "Node_10_0_0_3";
    public const string Peer4 = "Node_10_0_0_4";

    /// <summary>Our config; <paramref name="narrow3"/> narrows peer 3's import and export filters.</summary>
    public static string Ours(bool narrow3, string password4, string extra = "") => $$"""
        router id 10.0.0.1;

        filter calico_kernel_programming {
          if ( net ~ 10.60.0.0/16 ) then { accept; }
          if ( defined(bgp_next_hop) ) then { krt_tunnel = ""; accept; }
          reject;
        }

        protocol kernel {
          learn;
          persist;
          scan time 2;
          import all;
          export filter calico_kernel_programming;
          graceful restart;
          merge paths on;
        }

        protocol device {
          scan time 2;
        }
        protocol direct { interface -"cali*", -"kube-ipvs*", "*"; }

        protocol static {
          route 10.60.1.0/24 blackhole;
          route 10.60.2.0/24 blackhole;
        }

        template bgp bgp_template {
          local as 64512;
          gateway recursive;
          connect delay time 1;
          connect retry time 2;
          error wait time 1,5;
        }

        protocol bgp {{Peer2}} from bgp_template {
          neighbor 10.0.0.2 as 64512;
          source address 10.0.0.1;
          import all;
          export filter { if ( net ~ 10.60.0.0/16 ) then { accept; } reject; };
        }

        protocol bgp {{Peer3}} from bgp_template {
          neighbor 10.0.0.3 as 64512;
          source address 10.0.0.1;
          import {{(narrow3 ? "filter { if ( net = 10.52.1.0/24 ) then { accept; } reject; }" : "all")}};
          export filter { if ( net ~ {{(narrow3 ? "10.60.1.0/24" : "10.60.0.0/16")}} ) then { accept; } reject; };
        }

        protocol bgp {{Peer4}} from bgp_template {
          neighbor 10.0.0.4 as 64512;
          source address 10.0.0.1;
          password "{{password4}}";
          import all;
          export filter { if ( net ~ 10.60.0.0/16 ) then { accept; } reject; };
        }
        {{extra}}
        """;

    /// <summary>A BIRD 2 peer announcing <paramref name="blackholes"/>, with an optional TCP-MD5 password.</summary>
    public static string Bird2(string address, string? password, params string[] blackholes)
    {
        var statics = string.Concat(blackholes.Select(p => $"  route {p} blackhole;\n"));
        var pw = password is null ? "" : $"  password \"{password}\";\n";
        return $$"""
            router id {{address}};
            protocol device { scan time 2; }
            protocol static {
              ipv4;
            {{statics}}}
            protocol bgp peer1 {
              local {{address}} as 64512;
              neighbor 10.0.0.1 as 64512;
              connect retry time 1;
              error wait time 1, 5;
              direct;
            {{pw}}  ipv4 { import all; export all; };
            }
            """;
    }
}
