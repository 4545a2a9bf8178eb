using System.Xml.Linq;
using Calico.Bgp.Lab;

namespace Calico.Bgp.Daemon.Tests.Hosting;

/// <summary>
/// The Native AOT image lays out first the methods a running daemon calls (src/Daemon/image-order.txt,
/// written by tools/image-order.sh from a bench run with every method counted): the list must be one
/// the compiler can use, name the per-route and per-session code, and be what the daemon's build uses.
/// </summary>
public sealed class ImageOrderTests
{
    private static string Daemon => Path.Combine(LabTools.RepoRoot, "src", "Daemon");

    private static List<string> Names() =>
        [.. File.ReadLines(Path.Combine(Daemon, "image-order.txt")).Where(l => l.Length > 0 && !l.StartsWith('#'))];

    [Fact]
    public void The_list_names_each_method_once_as_the_compiler_spells_it()
    {
        var names = Names();
        // Thousands of methods ran in the collection (P1-P4, P6, the control socket); a short list is a broken collection.
        Assert.InRange(names.Count, 2_000, 22_000);
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        // The compiler's mangled names: one word each, never a C# signature.
        Assert.All(names, n => Assert.DoesNotContain(n, c => char.IsWhiteSpace(c) || c is '(' or ','));
    }

    [Fact]
    public void The_code_every_route_and_every_session_runs_comes_first()
    {
        var names = Names();
        int Rank(string suffix)
        {
            var i = names.FindIndex(n => n.EndsWith(suffix, StringComparison.Ordinal));
            Assert.True(i >= 0, $"no method ending in {suffix}");
            return i;
        }

        // Per route: the table's map lookup and its publication to the exports. Most called first, so
        // these sit in the first tenth of the list; a session's KEEPALIVE timer further down, but in it.
        var tenth = names.Count / 10;
        Assert.InRange(Rank("Calico_Bgp_Rib_PrefixMap__IndexOf"), 0, tenth);
        Assert.InRange(Rank("Calico_Bgp_Rib_RoutingTable__Publish"), 0, tenth);
        Assert.InRange(Rank("Calico_Bgp_Speaker_Session_BgpFsm__ArmKeepalive"), 0, names.Count - 1);
    }

    [Fact]
    public void The_daemons_build_hands_the_list_to_the_compiler()
    {
        var project = XDocument.Load(Path.Combine(Daemon, "Calico.Bgp.Daemon.csproj"));
        var order = Assert.Single(project.Descendants("IlcOrderFile"));
        Assert.Equal("$(MSBuildThisFileDirectory)image-order.txt", order.Value);
        // Off only when asked (the collection builds its image without the old order).
        Assert.Contains("'$(CalicoImageOrder)' != 'false'", order.Parent!.Attribute("Condition")!.Value, StringComparison.Ordinal);
    }
}
