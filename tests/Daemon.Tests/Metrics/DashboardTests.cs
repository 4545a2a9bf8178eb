using System.Text.Json;
using System.Text.RegularExpressions;
using Calico.Bgp.Daemon.Metrics;
using Calico.Bgp.Daemon.Tests.Control;
using Calico.Bgp.Lab;

namespace Calico.Bgp.Daemon.Tests.Metrics;

/// <summary>conf/grafana: the dashboard is JSON and queries only metrics the daemon exports.</summary>
public partial class DashboardTests
{
    private static IEnumerable<string> Strings(JsonElement e, string property) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().SelectMany(p =>
            p.Name == property && p.Value.ValueKind == JsonValueKind.String ? [p.Value.GetString()!] : Strings(p.Value, property)),
        JsonValueKind.Array => e.EnumerateArray().SelectMany(x => Strings(x, property)),
        _ => [],
    };

    [Fact]
    public void Every_query_references_exported_metrics()
    {
        var files = Directory.GetFiles(Path.Combine(LabTools.RepoRoot, "conf", "grafana"), "*.json");
        Assert.NotEmpty(files);
        var exported = new DaemonMetrics(new FakeMetricsSource(), new ManualTime(ManualTime.At("10:00:00")), processMetrics: false).Names.ToHashSet(StringComparer.Ordinal);
        foreach (var file in files)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var root = json.RootElement;
            Assert.False(string.IsNullOrEmpty(root.GetProperty("uid").GetString()));
            var queries = Strings(root, "expr").Concat(Strings(root, "query")).ToList();
            Assert.True(Strings(root, "expr").Count() >= 10, $"{file}: too few queries");
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (var q in queries)
            {
                foreach (Match m in MetricName().Matches(q))
                {
                    Assert.True(exported.Contains(m.Value), $"{Path.GetFileName(file)}: {m.Value} is not exported (in {q})");
                    used.Add(m.Value);
                }
            }
            // Every panel has a query and a datasource bound to the dashboard's variable.
            foreach (var panel in root.GetProperty("panels").EnumerateArray())
            {
                Assert.NotEmpty(panel.GetProperty("targets").EnumerateArray());
                Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            }
            Assert.Contains("calico_bgp_session_established", used);
        }
    }

    [GeneratedRegex(@"\bcalico_bgp_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
