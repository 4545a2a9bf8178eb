using System.Runtime.CompilerServices;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Tests;

/// <summary>The kernel protocol's view: one slot per prefix, its counts following every change.</summary>
public sealed class KernelViewTests
{
    private static KernelRouteSpec Route(string prefix, uint? metric = null) =>
        new() { Prefix = Prefix.Parse(prefix), Gateway = IpAddr.Parse("172.16.0.2"), Metric = metric };

    [Fact]
    public void Counts_follow_installed_and_wanted_routes_set_replaced_and_cleared()
    {
        var view = new KernelView();
        var a = Prefix.Parse("10.1.0.0/24");
        var b = Prefix.Parse("10.2.0.0/24");
        ref var sa = ref view.GetOrAdd(a);
        view.SetInstalled(ref sa, Route("10.1.0.0/24"));
        view.SetDesired(ref sa, Route("10.1.0.0/24"));
        ref var sb = ref view.GetOrAdd(b);
        view.SetDesired(ref sb, Route("10.2.0.0/24"));
        Assert.Equal((1, 2, 2), (view.InstalledCount, view.DesiredCount, view.Count));

        // Replacing a route is not a second one.
        ref var again = ref view.Find(a);
        view.SetInstalled(ref again, Route("10.1.0.0/24", metric: 5));
        Assert.Equal(1, view.InstalledCount);
        Assert.Equal(5u, view.Find(a).Installed!.Metric);

        view.SetDesired(ref view.Find(b), null);
        Assert.Equal(1, view.DesiredCount);
        view.RemoveIfEmpty(b);
        Assert.True(Unsafe.IsNullRef(ref view.Find(b)));
        // A slot that still holds a route stays.
        view.RemoveIfEmpty(a);
        Assert.False(Unsafe.IsNullRef(ref view.Find(a)));
    }

    [Fact]
    public void A_delete_done_drops_the_slot_unless_a_route_is_still_wanted_there()
    {
        var view = new KernelView();
        var gone = Prefix.Parse("10.1.0.0/24");
        var moved = Prefix.Parse("10.2.0.0/24");
        ref var g = ref view.GetOrAdd(gone);
        view.SetInstalled(ref g, Route("10.1.0.0/24"));
        g.Pending = true;
        ref var m = ref view.GetOrAdd(moved);
        view.SetInstalled(ref m, Route("10.2.0.0/24", metric: 10));
        view.SetDesired(ref m, Route("10.2.0.0/24", metric: 20));
        m.Pending = true;
        m.Seen = 7;

        view.Uninstall(gone);
        view.Uninstall(moved);
        // Deleting what is not there (a second answer) changes nothing.
        view.Uninstall(gone);

        Assert.True(Unsafe.IsNullRef(ref view.Find(gone)));
        ref var left = ref view.Find(moved);
        Assert.False(Unsafe.IsNullRef(ref left));
        // A metric change: the old route went, the new one is still wanted (its add follows), the marks stay.
        Assert.Null(left.Installed);
        Assert.Equal(20u, left.Desired!.Metric);
        Assert.Equal(7, left.Seen);
        Assert.False(left.Pending);
        Assert.Equal((0, 1, 1), (view.InstalledCount, view.DesiredCount, view.Count));
    }

    [Fact]
    public void Removing_while_enumerating_keeps_the_counts()
    {
        var view = new KernelView();
        for (var i = 0; i < 100; i++)
        {
            ref var s = ref view.GetOrAdd(Prefix.Parse($"10.{i}.0.0/24"));
            view.SetInstalled(ref s, Route($"10.{i}.0.0/24"));
            if (i % 2 == 0)
                view.SetDesired(ref s, Route($"10.{i}.0.0/24"));
        }
        foreach (var (p, slot) in view)
        {
            if (slot.Desired is null)
                view.Remove(p);
        }
        Assert.Equal((50, 50, 50), (view.InstalledCount, view.DesiredCount, view.Count));
    }
}
