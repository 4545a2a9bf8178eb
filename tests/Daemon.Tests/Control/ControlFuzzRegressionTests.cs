namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>
/// What the control fuzz target (fuzz/, docs/reliability.md) checks, pinned as tests over the
/// node-A topology: a request line, however odd, gets a BIRD reply that ends with exactly one final
/// line, and never <c>8000 Internal error</c> (the dispatcher's catch-all for an exception).
/// </summary>
public class ControlFuzzRegressionTests
{
    [Theory]
    [InlineData("show route for 1.2.3.4/99")]
    [InlineData("show route 10.0.0.0/33")]
    [InlineData("show route 999.1.1.1/8")]
    [InlineData("show route for ::1")]
    [InlineData("show route where")]
    [InlineData("show route where 1/0 = 1")]
    [InlineData("show route count where net.len / 0 > 1")]
    [InlineData("show route where \"a\" ~ \"[\"")]
    [InlineData("show route where from = 1.2.3.4.5")]
    [InlineData("show route where bgp_path ~ [= * =]")]
    [InlineData("show route protocol Mesh_10_99_0_1 protocol Mesh_10_99_0_1")]
    [InlineData("show route stats count all")]
    [InlineData("show route filter")]
    [InlineData("show protocols all \"[\"")]
    [InlineData("echo 99999999999999999999")]
    [InlineData("configure timeout 99999999999999")]
    [InlineData("configure timeout -5")]
    [InlineData("debug all { }")]
    [InlineData("restrict restrict")]
    [InlineData("show symbols \"x\"")]
    [InlineData("\"unterminated")]
    [InlineData("{ } , ,")]
    public void Odd_request_lines_get_a_bird_reply_not_an_internal_error(string line)
    {
        var backend = NodeATopology.Build(out var time);
        var reply = Transcript.Run(backend, time, line);
        var lines = Transcript.Parse(reply);
        Assert.Single(lines, l => l.Final);
        Assert.True(lines[^1].Final, reply);
        Assert.DoesNotContain(lines, l => l.Code == 8000);
    }

    /// <summary>
    /// The control fuzz target's crash (docs/reliability.md): a <c>where</c> condition nested
    /// 20,000 parentheses deep overflowed the stack in the condition parser, which no catch can
    /// handle, and took the daemon down. It is now a parse error like any other bad condition.
    /// </summary>
    [Fact]
    public void Deeply_nested_where_condition_is_a_syntax_error_not_a_crash()
    {
        // The daemon's backend compiles `where` with WhereCompiler (the fake backend above only
        // knows two conditions), so this goes through it directly.
        var condition = new string('(', 20_000) + "1 = 1" + new string(')', 20_000);
        Assert.False(Daemon.Hosting.WhereCompiler.TryCompile(null, condition, out var filter, out var error));
        Assert.Null(filter);
        Assert.Contains("nesting too deep", error, StringComparison.Ordinal);
    }

    /// <summary>The second crash: a 200,000-operator chain overflowed the stack when the condition ran.</summary>
    [Fact]
    public void Endless_where_operator_chain_is_a_syntax_error_not_a_crash()
    {
        var condition = string.Concat(Enumerable.Repeat("true && ", 200_000)) + "true";
        Assert.False(Daemon.Hosting.WhereCompiler.TryCompile(null, condition, out var filter, out var error));
        Assert.Null(filter);
        Assert.Contains("expression too long", error, StringComparison.Ordinal);
    }
}
