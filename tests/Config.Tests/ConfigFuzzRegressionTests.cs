namespace Calico.Bgp.Config.Tests;

/// <summary>
/// What the config fuzz target (fuzz/, docs/reliability.md) found or checks, pinned as tests.
/// </summary>
public class ConfigFuzzRegressionTests
{
    private const string WithPassword = """
        router id 10.0.0.1;
        protocol bgp Node_10_0_0_2 {
          local as 64512;
          neighbor 10.0.0.2 as 64512;
          password "s3cr3t-md5-key";
        }
        """;

    [Fact]
    public void Bgp_protocol_print_does_not_show_the_password()
    {
        var config = ConfigLoader.Parse(WithPassword, "bird.cfg");
        var bgp = Assert.IsType<BgpProtocolConfig>(Assert.Single(config.Protocols));
        Assert.Equal("s3cr3t-md5-key", bgp.Password);
        var text = bgp.ToString();
        Assert.DoesNotContain("s3cr3t-md5-key", text, StringComparison.Ordinal);
        Assert.Contains($"Password = {BgpProtocolConfig.RedactedPassword}", text, StringComparison.Ordinal);
        // The whole model print (what a reload log would show) leaks nothing either.
        Assert.DoesNotContain("s3cr3t-md5-key", config.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-md5-key", string.Join(",", config.Protocols), StringComparison.Ordinal);
    }

    [Fact]
    public void Bgp_protocol_print_keeps_every_other_property_once()
    {
        var bgp = (BgpProtocolConfig)ConfigLoader.Parse(WithPassword, "bird.cfg").Protocols[0];
        var text = bgp.ToString();
        foreach (var p in typeof(BgpProtocolConfig).GetProperties())
            Assert.Contains(p.Name + " = ", text, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, @"\bTypeName = BGP\b"));
        Assert.Contains("NeighborAddress = 10.0.0.2", text, StringComparison.Ordinal);
        Assert.Equal(bgp, bgp with { });
    }

    /// <summary>
    /// The control fuzz target's crash: <c>show route where ((((…1))))</c> 20,000 deep overflowed the
    /// stack in the recursive-descent parser and killed the daemon. Deep nesting of any construct is
    /// now a <see cref="ConfigException"/>.
    /// </summary>
    [Theory]
    [InlineData("(", "1 = 1", ")")]
    [InlineData("!", "true", "")]
    [InlineData("(!", "true", ")")]
    public void Deeply_nested_where_condition_is_an_error_not_a_stack_overflow(string open, string inner, string close)
    {
        var text = string.Concat(Enumerable.Repeat(open, 20_000)) + inner + string.Concat(Enumerable.Repeat(close, 20_000));
        var e = Assert.Throws<ConfigException>(() => WhereCondition.Compile(text));
        Assert.Contains("nesting too deep", e.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("parentheses")]
    [InlineData("blocks")]
    [InlineData("if chain")]
    public void Deeply_nested_filter_is_an_error_not_a_stack_overflow(string shape)
    {
        static string Repeat(string s) => string.Concat(Enumerable.Repeat(s, 20_000));
        var body = shape switch
        {
            "parentheses" => $"if {Repeat("(")}true{Repeat(")")} then accept; reject;",
            "blocks" => $"{Repeat("{ ")}accept;{Repeat(" }")}",
            _ => $"{Repeat("if true then ")}accept;",
        };
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"filter f {{ {body} }}", "bird.cfg"));
        Assert.Contains("nesting too deep", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_up_to_the_bound_still_parses_and_runs()
    {
        // The bound is 256 levels (Parser.MaxNestingDepth); Calico's filters nest three or four.
        const int depth = 200;
        var text = string.Concat(Enumerable.Repeat("(", depth)) + "net.len = 26" + string.Concat(Enumerable.Repeat(")", depth));
        var filter = WhereCondition.Compile(text);
        var route = Rib.Route.Create(Rib.Prefix.Parse("10.233.68.0/26"), new Rib.PathAttributes { Source = Rib.RouteSource.Static, Dest = Rib.RouteDest.Blackhole }, new TestProtocol("static1"));
        Assert.True(filter.Evaluate(route, new Rib.AttributeCache()).Accepted);
    }

    /// <summary>
    /// The control fuzz target's second crash: <c>true &amp;&amp;</c> chained 200,000 times parsed fine
    /// but overflowed the stack when the filter ran (each operator a closure calling the previous
    /// one). Too long a chain is now a <see cref="ConfigException"/>.
    /// </summary>
    [Theory]
    [InlineData("true && ", "true")]
    [InlineData("net.len > 1 || ", "true")]
    [InlineData("net.len + ", "net.len > 0")]
    [InlineData("net.len * ", "net.len > 0")]
    public void Endless_operator_chain_is_an_error_not_a_stack_overflow(string link, string last)
    {
        var text = string.Concat(Enumerable.Repeat(link, 200_000)) + last;
        var e = Assert.Throws<ConfigException>(() => WhereCondition.Compile(text));
        Assert.Contains("expression too long", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_chains_within_the_bound_parse_and_run()
    {
        // The bound is 1024 operators per statement (Parser.MaxOperators).
        var text = string.Concat(Enumerable.Repeat("net.len > 1 && ", 1000)) + "net.len = 26";
        var filter = WhereCondition.Compile(text);
        var route = Rib.Route.Create(Rib.Prefix.Parse("10.233.68.0/26"), new Rib.PathAttributes { Source = Rib.RouteSource.Static, Dest = Rib.RouteDest.Blackhole }, new TestProtocol("static1"));
        Assert.True(filter.Evaluate(route, new Rib.AttributeCache()).Accepted);
    }
}
