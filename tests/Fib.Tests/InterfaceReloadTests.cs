using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// <see cref="InterfaceSnapshot.ReloadAsync"/>: the same snapshot back when a read finds nothing
/// changed, and otherwise exactly what a full read builds.
/// </summary>
public sealed class InterfaceReloadTests
{
    private static FakeRouteNetlink Kernel()
    {
        var nl = new FakeRouteNetlink();
        nl.Links.Add(new LinkInfo(7, "cali1234", "veth", Rtnl.IffUp | Rtnl.IffLowerUp, 1440, 1));
        nl.Links.Add(new LinkInfo(9, "kube-ipvs0", "dummy", 0, 1500, 1));
        nl.Addresses.Add(new AddressInfo(2, IpAddr.Parse("172.16.0.9"), 24, null, Rtnl.ScopeUniverse, 0));
        nl.Addresses.Add(new AddressInfo(2, IpAddr.Parse("fd00::1"), 64, null, Rtnl.ScopeUniverse, 0x80));
        nl.Addresses.Add(new AddressInfo(7, IpAddr.Parse("fe80::ecee:eeff:feee:eeee"), 64, null, 253, 0x80));
        // Admin-down: its addresses are not in the snapshot (Calico's fork).
        nl.Addresses.Add(new AddressInfo(9, IpAddr.Parse("10.96.0.1"), 32, null, Rtnl.ScopeUniverse, 0));
        return nl;
    }

    private static void AssertSame(InterfaceSnapshot expected, InterfaceSnapshot actual)
    {
        Assert.Equal(expected.Interfaces.Length, actual.Interfaces.Length);
        for (var i = 0; i < expected.Interfaces.Length; i++)
        {
            var (e, a) = (expected.Interfaces[i], actual.Interfaces[i]);
            Assert.Equal((e.Index, e.Name, e.Kind, e.Flags, e.Mtu), (a.Index, a.Name, a.Kind, a.Flags, a.Mtu));
            Assert.Equal(e.Addresses.ToArray(), a.Addresses.ToArray());
        }
    }

    [Fact]
    public async Task A_read_that_finds_nothing_changed_returns_the_same_snapshot()
    {
        using var nl = Kernel();
        var check = new UnchangedInterfacesCheck();
        var first = await InterfaceSnapshot.LoadAsync(nl, CancellationToken.None);
        for (var i = 0; i < 3; i++)
            Assert.Same(first, await InterfaceSnapshot.ReloadAsync(nl, first, check, CancellationToken.None));
        // Addresses of the admin-down interface come and go without a new snapshot: it lists none.
        nl.Addresses.Add(new AddressInfo(9, IpAddr.Parse("10.96.0.2"), 32, null, Rtnl.ScopeUniverse, 0));
        Assert.Same(first, await InterfaceSnapshot.ReloadAsync(nl, first, check, CancellationToken.None));
        // So do addresses of an interface the link dump did not list (it went between the dumps).
        nl.Addresses.Add(new AddressInfo(42, IpAddr.Parse("10.0.0.42"), 24, null, Rtnl.ScopeUniverse, 0));
        Assert.Same(first, await InterfaceSnapshot.ReloadAsync(nl, first, check, CancellationToken.None));
    }

    [Fact]
    public async Task The_first_read_against_the_empty_snapshot_is_a_full_one()
    {
        using var nl = Kernel();
        var read = await InterfaceSnapshot.ReloadAsync(nl, InterfaceSnapshot.Empty, new UnchangedInterfacesCheck(), CancellationToken.None);
        AssertSame(await InterfaceSnapshot.LoadAsync(nl, CancellationToken.None), read);
        Assert.Equal(4, read.Interfaces.Length);
    }

    public static TheoryData<string> Changes() =>
    [
        "flags", "mtu", "name", "kind", "link added", "link removed", "link down", "address added", "address removed",
        "address length", "address flags", "address scope", "address peer", "addresses reordered", "address moved",
    ];

    [Theory]
    [MemberData(nameof(Changes))]
    public async Task Any_change_gives_what_a_full_read_gives(string change)
    {
        using var nl = Kernel();
        var check = new UnchangedInterfacesCheck();
        var before = await InterfaceSnapshot.LoadAsync(nl, CancellationToken.None);
        var eth0 = nl.Links.FindIndex(l => l.Name == "eth0");
        var v4 = nl.Addresses.FindIndex(a => a.Address == IpAddr.Parse("172.16.0.1"));
        switch (change)
        {
            case "flags": nl.Links[eth0] = nl.Links[eth0] with { Flags = Rtnl.IffUp }; break;
            case "mtu": nl.Links[eth0] = nl.Links[eth0] with { Mtu = 9000 }; break;
            case "name": nl.Links[eth0] = nl.Links[eth0] with { Name = "eth1" }; break;
            case "kind": nl.Links[eth0] = nl.Links[eth0] with { Kind = "vxlan" }; break;
            case "link added": nl.Links.Add(new LinkInfo(11, "cali5678", "veth", Rtnl.IffUp, 1440, 1)); break;
            case "link removed": nl.Links.RemoveAll(l => l.Name == "cali1234"); break;
            case "link down": nl.Links[eth0] = nl.Links[eth0] with { Flags = 0 }; break;
            case "address added": nl.Addresses.Add(new AddressInfo(7, IpAddr.Parse("169.254.1.1"), 32, null, Rtnl.ScopeUniverse, 0)); break;
            case "address removed": nl.Addresses.RemoveAt(v4); break;
            case "address length": nl.Addresses[v4] = nl.Addresses[v4] with { PrefixLength = 16 }; break;
            case "address flags": nl.Addresses[v4] = nl.Addresses[v4] with { Flags = 0x80 }; break;
            case "address scope": nl.Addresses[v4] = nl.Addresses[v4] with { Scope = 253 }; break;
            case "address peer": nl.Addresses[v4] = nl.Addresses[v4] with { Peer = IpAddr.Parse("172.16.0.2") }; break;
            case "addresses reordered":
                (nl.Addresses[v4], nl.Addresses[v4 + 1]) = (nl.Addresses[v4 + 1], nl.Addresses[v4]);
                break;
            case "address moved": nl.Addresses[v4] = nl.Addresses[v4] with { InterfaceIndex = 7 }; break;
            default: throw new ArgumentException(change);
        }
        var after = await InterfaceSnapshot.ReloadAsync(nl, before, check, CancellationToken.None);
        Assert.NotSame(before, after);
        AssertSame(await InterfaceSnapshot.LoadAsync(nl, CancellationToken.None), after);
        // And the check is ready for the next scan: the new snapshot compares equal to itself.
        Assert.Same(after, await InterfaceSnapshot.ReloadAsync(nl, after, check, CancellationToken.None));
    }

    [Fact]
    public async Task An_interrupted_dump_counts_as_a_change()
    {
        using var nl = Kernel();
        var snapshot = await InterfaceSnapshot.LoadAsync(nl, CancellationToken.None);
        var check = new UnchangedInterfacesCheck();
        check.Begin(snapshot);
        await ((IRouteNetlink)nl).DumpInterfacesAsync(check, CancellationToken.None);
        Assert.True(check.Unchanged());
        check.Begin(snapshot);
        await ((IRouteNetlink)nl).DumpInterfacesAsync(check, CancellationToken.None);
        check.Restart();
        Assert.False(check.Unchanged());
    }

    /// <summary>Against a kernel: the dumps compared in place over our own rtnetlink socket.</summary>
    [Fact]
    public async Task A_namespace_s_interfaces_are_compared_in_place_and_each_change_is_seen()
    {
        await using var lab = await TestLab.CreateAsync("ifreload");
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        await host.AddAddressAsync("eth0", "fd00:16::1/64");
        for (var i = 0; i < 20; i++)
        {
            (await host.IpAsync("link", "add", $"cali{i:x4}", "type", "veth", "peer", "name", $"p{i}")).ThrowIfFailed("veth");
            (await host.IpAsync("link", "set", $"cali{i:x4}", "up")).ThrowIfFailed("up");
        }
        using var nl = RtNetlinkClient.Open(host.Netns);
        var check = new UnchangedInterfacesCheck();
        var full = await InterfaceSnapshot.LoadAsync(nl, CancellationToken.None);
        Assert.Contains(full.Interfaces, i => i.Name == "cali0013");
        // IPv6 link-local addresses finish their duplicate address detection shortly after a link
        // comes up (a real change of their flags): read until a read finds nothing changed.
        var current = full;
        for (var i = 0; i < 50; i++)
        {
            var next = await InterfaceSnapshot.ReloadAsync(nl, current, check, CancellationToken.None);
            if (ReferenceEquals(next, current))
                break;
            current = next;
            await Task.Delay(100);
        }
        Assert.Same(current, await InterfaceSnapshot.ReloadAsync(nl, current, check, CancellationToken.None));
        AssertSame(await InterfaceSnapshot.LoadAsync(nl, CancellationToken.None), current);

        (await host.IpAsync("link", "set", "cali0005", "mtu", "1400")).ThrowIfFailed("mtu");
        var mtu = await InterfaceSnapshot.ReloadAsync(nl, current, check, CancellationToken.None);
        Assert.NotSame(current, mtu);
        Assert.Equal(1400u, mtu.ByName("cali0005")!.Mtu);

        await host.AddAddressAsync("cali0007", "10.233.1.1/32");
        var address = await InterfaceSnapshot.ReloadAsync(nl, mtu, check, CancellationToken.None);
        Assert.NotSame(mtu, address);
        Assert.Contains(address.ByName("cali0007")!.Addresses, a => a.Address == IpAddr.Parse("10.233.1.1"));

        (await host.IpAsync("link", "del", "cali0009")).ThrowIfFailed("del");
        var gone = await InterfaceSnapshot.ReloadAsync(nl, address, check, CancellationToken.None);
        Assert.Null(gone.ByName("cali0009"));
        AssertSame(await InterfaceSnapshot.LoadAsync(nl, CancellationToken.None), gone);
    }
}
