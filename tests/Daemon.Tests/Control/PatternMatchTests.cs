using Calico.Bgp.Daemon.Control;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>BIRD's protocol name patterns (<c>show protocols "Mesh_*"</c>).</summary>
public class PatternMatchTests
{
    [Theory]
    [InlineData("Mesh_*", "Mesh_10_0_0_2", true)]
    [InlineData("*", "", true)]
    [InlineData("*", "kernel1", true)]
    [InlineData("", "", true)]
    [InlineData("", "x", false)]
    [InlineData("Mesh_10_0_0_?", "Mesh_10_0_0_2", true)]
    [InlineData("Mesh_10_0_0_?", "Mesh_10_0_0_22", false)]
    [InlineData("*_0_*", "Mesh_10_0_0_2", true)]
    [InlineData("*2", "Mesh_10_0_0_2", true)]
    [InlineData("*3", "Mesh_10_0_0_2", false)]
    [InlineData("M*h*0*2", "Mesh_10_0_0_2", true)]
    [InlineData("M*h*0*3", "Mesh_10_0_0_2", false)]
    [InlineData("**Node**", "Node_10_99_0_50", true)]
    [InlineData("?", "", false)]
    [InlineData("a*b", "a", false)]
    [InlineData("a*b", "ab", true)]
    [InlineData("a*b*c", "abxbc", true)]
    [InlineData("static?", "static1", true)]
    public void Patterns_match_as_birds_patmatch(string pattern, string name, bool expected) =>
        Assert.Equal(expected, ProtocolSelector.PatternMatch(pattern, name));

    [Fact]
    public void Hundreds_of_stars_answer_at_once_instead_of_backtracking_forever()
    {
        // Found by fuzzing: a recursive split per star is exponential in the number of stars.
        var pattern = new string('*', 500) + "x";
        Assert.False(ProtocolSelector.PatternMatch(pattern, "Mesh_10_0_0_2_Mesh_10_0_0_3_Mesh_10_0_0_4"));
        Assert.True(ProtocolSelector.PatternMatch(new string('*', 500) + "4", "Mesh_10_0_0_4"));
    }
}
