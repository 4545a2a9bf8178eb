namespace Calico.Bgp.Config.Tests;

public class ErrorTests
{
    public static TheoryData<string, string> Broken => new()
    {
        { "router id 1.2.3.4", "e.cfg:1:18: expected ';', found end of file" },
        { "router id 1.2.3.4\nprotocol device {}", "e.cfg:2:1: expected ';', found 'protocol'" },
        { "router id 1.2.3.400;", "e.cfg:1:11: invalid IPv4 address '1.2.3.400'" },
        { "frobnicate;", "e.cfg:1:1: expected a top-level statement (router id, listen bgp, include, function, filter, template or protocol), found 'frobnicate'" },
        { "protocol pipe {}", "e.cfg:1:10: expected a protocol type (kernel, device, direct, static or bgp), found 'pipe'" },
        { "protocol kernel { learn; bogus; }", "e.cfg:1:26: expected a kernel protocol option, found 'bogus'" },
        { "protocol device { scan time 2; ", "e.cfg:1:32: unterminated protocol 'device1': expected '}' before end of file" },
        { "protocol device {}\nprotocol device device1 {}", "e.cfg:2:17: symbol 'device1' is already defined (as protocol at e.cfg:1:1)" },
        { "protocol bgp a { local as 1; neighbor 1.2.3.4 as 2; }\nprotocol bgp a { local as 1; neighbor 1.2.3.5 as 2; }", "e.cfg:2:14: symbol 'a' is already defined (as protocol at e.cfg:1:14)" },
        { "protocol kernel from nope {}", "e.cfg:1:22: unknown template 'nope'" },
        { "template kernel k {}\nprotocol bgp b from k {}", "e.cfg:2:21: template 'k' is a kernel template, not bgp" },
        { "protocol kernel { export filter nope; }", "e.cfg:1:33: unknown filter 'nope'" },
        { "filter f { nope(); }", "e.cfg:1:12: unknown function 'nope'" },
        { "filter f { if x then accept; }", "e.cfg:1:15: unknown symbol 'x': expected an attribute, variable, function or constant" },
        { "protocol static { route 10.0.0.1/24 blackhole; }", "e.cfg:1:25: invalid prefix 10.0.0.1/24: host bits are set" },
        { "protocol static { route 10.0.0.0/33 blackhole; }", "e.cfg:1:34: prefix length 33 is out of range (0..32)" },
        { "protocol static { route 10.0.0.0/8 nowhere; }", "e.cfg:1:36: expected 'via', 'multipath', 'blackhole', 'unreachable' or 'prohibit', found 'nowhere'" },
        { "protocol static { route 10.0.0.0/8 via 2001::1; }", "e.cfg:1:40: expected a gateway address (an IPv4 address), found IPv6 address '2001::1'" },
        { "protocol bgp b { local as 1; neighbor 1.2.3.4 as 2; description \"x; }", "e.cfg:1:65: unterminated string: expected '\"' before end of line" },
        { "/* never closed\nrouter id 1.2.3.4;", "e.cfg:1:1: unterminated comment: expected '*/'" },
        { "function 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'() {}", "e.cfg:1:10: symbol 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is longer than 64 characters" },
        { "filter f { if net = \"x\" then accept; }", "e.cfg:1:19: cannot compare prefix with string" },
        { "filter f { krt_metric = \"x\"; accept; }", "e.cfg:1:25: cannot assign string to attribute krt_metric of type int" },
        { "filter f { net = 10.0.0.0/8; }", "e.cfg:1:12: attribute net is read-only" },
        { "filter f { if net then accept; }", "e.cfg:1:19: the 'if' condition must be bool, not prefix" },
        { "filter f { if 1 < 2 < 3 then accept; }", "e.cfg:1:21: comparison operators are not associative: put '<' or '<' in parentheses" },
        { "filter f { accept; ", "e.cfg:1:10: unterminated block: expected '}' before end of file" },
        { "filter f { if net ~ 10.0.0.0/8 accept; }", "e.cfg:1:32: expected 'then', found 'accept'" },
        { "function g(bool b) {}\nfilter f { g(1); accept; }", "e.cfg:2:12: argument 1 of 'g' must be bool, not int" },
        { "function g(bool b) {}\nfilter f { g(); accept; }", "e.cfg:2:12: function 'g' takes 1 argument(s), 0 given" },
        { "filter f { bgp_community.add(1); accept; }", "e.cfg:1:30: attribute bgp_community (clist) has no method 'add' taking int" },
        { "filter f { if (65536, 1) ~ bgp_community then accept; }", "e.cfg:1:15: pair (65536, 1) is out of range (0..65535)" },
        { "filter f { if net ~ [ 10.0.0.0/8, 5 ] then accept; }", "e.cfg:1:35: set mixes prefix and int elements" },
        { "protocol bgp b { local as 1; }", "e.cfg:1:1: protocol 'b': neighbor must be configured (neighbor IP as N)" },
        { "protocol bgp b { neighbor 1.2.3.4 as 1; }", "e.cfg:1:1: protocol 'b': local AS number must be set (local as N)" },
        { "protocol bgp b { local as 1; neighbor 1.2.3.4 as 1; error wait time 5; }", "e.cfg:1:70: expected ',', found ';'" },
        { "protocol device { debug { states, nonsense }; }", "e.cfg:1:35: expected a debug category (states, routes, filters, interfaces, events, packets), found 'nonsense'" },
        { "include \"does-not-exist.cfg\";", "e.cfg:1:9: cannot read include file 'does-not-exist.cfg': no such file" },
        { "router id 1.2.3.4; @", "e.cfg:1:20: unexpected character '@'" },
        { "listen bgp port 70000;", "e.cfg:1:17: a port number 70000 is out of range (1..65535)" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Broken_config_reports_file_line_column(string text, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, "e.cfg"));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void Bird6_rejects_ipv4_neighbors()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("protocol bgp b { local as 1; neighbor 1.2.3.4 as 2; }", "e6.cfg", new ConfigLoadOptions { Ipv6 = true }));
        Assert.Equal("e6.cfg:1:39: expected a neighbor address (an IPv6 address), found IPv4 address '1.2.3.4'", e.Message);
    }

    [Fact]
    public void Bird6_reads_a_dotted_quad_in_a_filter_as_a_quad_and_fails_only_when_it_runs()
    {
        // As BIRD 1.6's bird6: 192.168.0.0/16 in a filter is quad / int, a type error at run time;
        // the same prefix where an address is wanted (a static route) is a parse error.
        var c = ConfigLoader.Parse("filter t { if net ~ 192.168.0.0/16 then accept; reject; }", "q6.cfg", new ConfigLoadOptions { Ipv6 = true });
        var route = Calico.Bgp.Rib.Route.Create(Calico.Bgp.Rib.Prefix.Parse("fd00::/64"),
            new Calico.Bgp.Rib.PathAttributes { Source = Calico.Bgp.Rib.RouteSource.Static, Dest = Calico.Bgp.Rib.RouteDest.Blackhole },
            new TestProtocol("static1"), preference: 200);
        var r = c.Filters["t"].Filter.Evaluate(route, new Calico.Bgp.Rib.AttributeCache());
        Assert.False(r.Accepted);
        Assert.Equal("Filter t: Incompatible types for operation /", r.Error);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("protocol static { route 10.0.0.0/8 blackhole; }", "s6.cfg", new ConfigLoadOptions { Ipv6 = true }));
        Assert.Equal("s6.cfg:1:25: expected a route prefix (an IPv6 address), found IPv4 address '10.0.0.0'", e.Message);
    }

    [Fact]
    public void Errors_in_included_files_name_the_included_file_and_loops_are_found()
    {
        var dir = Directory.CreateTempSubdirectory("cfgerr");
        try
        {
            var main = Path.Combine(dir.FullName, "main.cfg");
            File.WriteAllText(main, "router id 1.2.3.4;\ninclude \"inc.cfg\";\n");
            File.WriteAllText(Path.Combine(dir.FullName, "inc.cfg"), "\n  protocol device { scan time; }\n");
            var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(main));
            Assert.Equal($"{Path.Combine(dir.FullName, "inc.cfg")}:2:30: expected a scan time in seconds, found ';'", e.Message);

            File.WriteAllText(Path.Combine(dir.FullName, "inc.cfg"), "include \"main.cfg\";\n");
            e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(main));
            Assert.Equal($"{Path.Combine(dir.FullName, "inc.cfg")}:1:9: include loop: '{main}' is already being read", e.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
