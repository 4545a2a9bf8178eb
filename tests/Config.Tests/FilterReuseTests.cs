using Calico.Bgp.Config.Filters;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Tests;

/// <summary>
/// A filter run reuses its thread's state (attribute draft, value stack, memo of built sets): no run
/// may see what an earlier one left, and the result must be what building and interning would give.
/// </summary>
public class FilterReuseTests
{
    private static readonly TestProtocol Owner = new("static1");

    private static Route Route(string prefix, PathAttributes attributes, int preference = 200) =>
        Rib.Route.Create(Prefix.Parse(prefix), attributes, Owner, preference: preference);

    private static PathAttributes Bgp(uint? localPref) => new()
    {
        Source = RouteSource.Bgp,
        Dest = RouteDest.Router,
        Gateway = IpAddr.Parse("10.192.0.4"),
        NextHop = IpAddr.Parse("10.192.0.4"),
        LocalPref = localPref,
        AsPath = AsPath.Empty,
        Origin = BgpOrigin.Igp,
    };

    private static CompiledFilter Compile(string text, string name = "t", Action<string>? log = null) =>
        ConfigLoader.Parse(text, "f.cfg", new ConfigLoadOptions { Log = log }).Filters[name].Filter;

    [Fact]
    public void Writes_and_preference_of_one_run_do_not_reach_the_next()
    {
        var cache = new AttributeCache();
        var f = Compile("""
            filter t {
              if net ~ 10.0.0.0/8 then { krt_metric = 7; bgp_med = 9; preference = 5; krt_tunnel = "tunl0"; }
              accept;
            }
            """);
        var written = f.Evaluate(Route("10.1.0.0/16", cache.Intern(Bgp(100))), cache).Route!;
        Assert.Equal(7u, written.Attributes.KrtMetric);
        Assert.Equal(9u, written.Attributes.Med);
        Assert.Equal("tunl0", written.Attributes.KrtTunnel);
        Assert.Equal(5, written.Preference);

        var input = Route("192.168.0.0/16", cache.Intern(Bgp(100)));
        var untouched = f.Evaluate(input, cache).Route!;
        Assert.Same(input, untouched);
        Assert.Null(untouched.Attributes.KrtMetric);
        Assert.Null(untouched.Attributes.Med);
        Assert.Equal(200, untouched.Preference);
    }

    [Fact]
    public void A_run_that_rejects_or_fails_after_writing_leaves_nothing_behind()
    {
        var cache = new AttributeCache();
        var f = Compile("""
            filter t {
              if net ~ 10.0.0.0/8 then { krt_metric = 5; bgp_local_pref = 1; preference = 7; reject; }
              if net ~ 11.0.0.0/8 then { krt_metric = 6; krt_metric = bgp_med + 1; }
              accept;
            }
            """);
        var attributes = cache.Intern(Bgp(100));
        Assert.Null(f.Evaluate(Route("10.1.0.0/16", attributes), cache).Route);
        var failed = f.Evaluate(Route("11.1.0.0/16", attributes), cache);
        Assert.Null(failed.Route);
        Assert.Contains("bgp_med is undefined", failed.Error);

        var input = Route("192.168.0.0/16", attributes);
        var next = f.Evaluate(input, cache);
        Assert.Null(next.Error);
        Assert.Same(input, next.Route);
        Assert.Null(next.Route!.Attributes.KrtMetric);
        Assert.Equal(100u, next.Route.Attributes.LocalPref);
        Assert.Equal(200, next.Route.Preference);
    }

    [Fact]
    public void Nested_calls_keep_each_frame_apart_also_past_the_first_stack()
    {
        // Each function has more locals than the stack first holds, and calls run inside the
        // arguments of other calls: every frame must read back what it wrote.
        var cache = new AttributeCache();
        var f = Compile("""
            function inner(int x) int a; int b; int c; int d; int e; int g; int h; int i; int j; int k; int l; int m; int n; int o; int p; int q; {
              a = x; b = a + 1; c = b + 1; d = c + 1; e = d + 1; g = e + 1; h = g + 1; i = h + 1; j = i + 1; k = j + 1;
              l = k + 1; m = l + 1; n = m + 1; o = n + 1; p = o + 1; q = p + 1;
              return q - 15 + x;
            }
            function outer(int a, int b) int c; int d; int e; int g; int h; int i; int j; int k; int l; int m; int n; int o; int p; int q; int r; {
              c = a; r = b;
              d = inner(inner(a) + inner(b));
              return d * 1000 + c * 10 + r;
            }
            filter t int v; int w; {
              v = 3; w = 4;
              krt_metric = outer(v, w) + outer(1, 2);
              if v = 3 && w = 4 then accept;
              reject;
            }
            """);
        // inner(x) = 2x; outer(a, b) = 4(a + b) * 1000 + 10a + b.
        var expected = (uint)(28 * 1000 + 34 + 12 * 1000 + 12);
        for (var run = 0; run < 3; run++)
        {
            var r = f.Evaluate(Route("10.0.0.0/8", cache.Intern(Bgp(100))), cache);
            Assert.Null(r.Error);
            Assert.Equal(expected, r.Route!.Attributes.KrtMetric);
        }
    }

    [Fact]
    public void Locals_start_undefined_in_every_run_and_call()
    {
        var cache = new AttributeCache();
        var f = Compile("""
            function g(int x) int y; { if y = 0 then y = x; else y = 999; return y; }
            filter t int v; {
              if v != 0 then reject;
              v = g(5) + g(6);
              krt_metric = v;
              accept;
            }
            """);
        for (var run = 0; run < 3; run++)
            Assert.Equal(11u, f.Evaluate(Route("10.0.0.0/8", cache.Intern(Bgp(100))), cache).Route!.Attributes.KrtMetric);
    }

    [Fact]
    public void A_built_set_is_the_one_the_cache_interns_and_is_shared_by_later_runs()
    {
        var cache = new AttributeCache();
        var f = Compile("filter t { krt_metric = 2147483647 - bgp_local_pref; accept; }");
        var a = f.Evaluate(Route("10.1.0.0/16", cache.Intern(Bgp(100))), cache).Route!;
        var b = f.Evaluate(Route("10.2.0.0/16", cache.Intern(Bgp(100))), cache).Route!;
        var other = f.Evaluate(Route("10.3.0.0/16", cache.Intern(Bgp(200))), cache).Route!;
        Assert.Same(a.Attributes, b.Attributes);
        Assert.Same(cache.Intern(Bgp(100) with { KrtMetric = 2147483547 }), a.Attributes);
        Assert.Equal(2147483447u, other.Attributes.KrtMetric);
        Assert.Same(cache.Intern(Bgp(200) with { KrtMetric = 2147483447 }), other.Attributes);

        // Another cache gets its own set, not the one the first cache holds.
        var second = new AttributeCache();
        var c = f.Evaluate(Route("10.1.0.0/16", second.Intern(Bgp(100))), second).Route!;
        Assert.NotSame(a.Attributes, c.Attributes);
        Assert.Same(second.Intern(Bgp(100) with { KrtMetric = 2147483547 }), c.Attributes);
    }

    [Fact]
    public void Writing_back_the_same_values_gives_the_interned_input()
    {
        var cache = new AttributeCache();
        var f = Compile("filter t { bgp_local_pref = bgp_local_pref; accept; }");
        var input = Route("10.1.0.0/16", cache.Intern(Bgp(100)));
        Assert.Same(input, f.Evaluate(input, cache).Route);
    }

    [Fact]
    public void Bgp_export_defaults_are_in_the_accepted_route_only()
    {
        var cache = new AttributeCache();
        var config = ConfigLoader.Parse("""
            protocol bgp peer1 {
              local as 64512;
              neighbor 10.192.0.3 as 64512;
              connect delay time 2; connect retry time 5; error wait time 5,30;
              export filter { if net ~ 10.0.0.0/8 then reject; if defined(bgp_local_pref) then accept; reject; };
            }
            """, "f.cfg");
        var filter = Assert.IsType<BgpExportFilter>(config.Protocols[0].ExportFilter);
        var plain = cache.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole });
        Assert.Null(filter.Apply(Route("10.1.0.0/16", plain), cache));
        var accepted = filter.Evaluate(Route("192.168.0.0/16", plain), cache).Route!;
        Assert.Same(cache.Intern(plain with { Origin = BgpOrigin.Igp, AsPath = AsPath.Empty, LocalPref = 100 }), accepted.Attributes);
        Assert.Same(BgpExportFilter.WithDefaults(Route("192.168.0.0/16", plain), cache).Attributes, accepted.Attributes);
    }

    [Fact]
    public void A_filter_run_inside_another_run_on_the_same_thread_does_not_share_its_state()
    {
        var cache = new AttributeCache();
        var innerFilter = Compile("filter t { krt_metric = 1; bgp_med = 1; accept; }");
        Route? innerResult = null;
        var outer = Compile("""
            filter t int v; {
              v = 42;
              krt_metric = 2;
              print "run inner";
              if v = 42 then { bgp_local_pref = 3; accept; }
              reject;
            }
            """, log: _ => innerResult = innerFilter.Evaluate(Route("10.9.0.0/16", cache.Intern(Bgp(100))), cache).Route);
        var r = outer.Evaluate(Route("10.1.0.0/16", cache.Intern(Bgp(100))), cache).Route!;
        Assert.Equal(2u, r.Attributes.KrtMetric);
        Assert.Null(r.Attributes.Med);
        Assert.Equal(3u, r.Attributes.LocalPref);
        Assert.Equal(1u, innerResult!.Attributes.KrtMetric);
        Assert.Equal(1u, innerResult.Attributes.Med);
        Assert.Equal(100u, innerResult.Attributes.LocalPref);
    }

    [Fact]
    public void Runs_on_many_threads_at_once_each_see_their_own_route()
    {
        var cache = new AttributeCache();
        var f = Compile("""
            function m(int x) int y; { y = x + 1; return y; }
            filter t { krt_metric = m(bgp_local_pref); if krt_metric != bgp_local_pref + 1 then reject; accept; }
            """);
        Parallel.For(0, 8, t =>
        {
            for (var i = 0; i < 2000; i++)
            {
                var pref = (uint)(t * 10000 + i % 50);
                var r = f.Evaluate(Route("10.0.0.0/8", cache.Intern(Bgp(pref))), cache);
                Assert.Null(r.Error);
                Assert.Equal(pref + 1, r.Route!.Attributes.KrtMetric);
            }
        });
    }

    [Fact]
    public void A_run_allocates_only_its_route_once_its_result_set_is_interned()
    {
        var cache = new AttributeCache();
        var f = Compile("""
            function pick(int x) int y; { y = x; return y; }
            filter t {
              if defined(bgp_local_pref) then krt_metric = 2147483647 - pick(bgp_local_pref);
              if net ~ 10.96.0.0/12 then reject;
              accept;
            }
            """);
        var accepted = Route("10.1.0.0/16", cache.Intern(Bgp(100)));
        var rejected = Route("10.96.0.0/16", cache.Intern(Bgp(100)));
        for (var i = 0; i < 100; i++)
        {
            f.Apply(accepted, cache);
            f.Apply(rejected, cache);
        }
        const int Runs = 1000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Runs; i++)
            f.Apply(rejected, cache);
        var perRejected = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Runs;
        before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Runs; i++)
            f.Apply(accepted, cache);
        var perAccepted = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Runs;
        // A rejected route costs nothing; an accepted one its new Route (64 B), nothing per write.
        Assert.True(perRejected < 8, $"{perRejected} B per rejected run");
        Assert.True(perAccepted < 100, $"{perAccepted} B per accepted run");
    }
}
