using System.Text.RegularExpressions;
using Calico.Bgp.Config;
using Calico.Bgp.Daemon.Metrics;
using Calico.Bgp.Lab;

namespace Calico.Bgp.Daemon.Tests.Metrics;

/// <summary>
/// conf/k8s: every YAML file parses and has what Kubernetes requires; the route reflector's probes
/// and scrape settings point at what the daemon serves; its bird.cfg loads; the calico-node patch
/// puts our binaries where calico-node calls BIRD.
/// </summary>
public partial class ManifestTests
{
    private static string K8s => Path.Combine(LabTools.RepoRoot, "conf", "k8s");

    private static IEnumerable<(string File, Dictionary<string, object?> Doc)> All() =>
        Directory.EnumerateFiles(K8s, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .SelectMany(f => MiniYaml.ParseDocuments(File.ReadAllText(f)).Select(d => (f, d as Dictionary<string, object?> ?? throw new FormatException($"{f}: not a mapping"))));

    private static Dictionary<string, object?> Doc(string relative) =>
        (Dictionary<string, object?>)MiniYaml.ParseDocuments(File.ReadAllText(Path.Combine(K8s, relative))).Single()!;

    [Fact]
    public void Every_manifest_has_api_version_kind_and_name()
    {
        var docs = All().ToList();
        Assert.True(docs.Count >= 9, $"only {docs.Count} documents under {K8s}");
        foreach (var (file, doc) in docs)
        {
            Assert.Matches("^[a-z0-9.]*/?v[0-9a-z]+$", MiniYaml.Str(doc, "apiVersion"));
            var kind = MiniYaml.Str(doc, "kind");
            if (kind != "Kustomization")
                Assert.Matches("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", MiniYaml.Str(doc, "metadata.name"));
            else
            {
                foreach (var r in MiniYaml.Seq(doc, "resources").Cast<string>().Where(r => r != "calico.yaml"))
                    Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(file)!, r)), $"{file}: resource {r} missing");
            }
        }
    }

    [Fact]
    public void Route_reflector_probes_and_scrape_settings_match_the_metrics_listener()
    {
        var d = Doc("route-reflector/deployment.yaml");
        Assert.Equal("Deployment", MiniYaml.Str(d, "kind"));
        Assert.Equal("2", MiniYaml.Str(d, "spec.replicas"));
        var labels = MiniYaml.At(d, "spec.selector.matchLabels") as Dictionary<string, object?>;
        Assert.NotNull(labels);
        Assert.Equal(labels, MiniYaml.At(d, "spec.template.metadata.labels") as Dictionary<string, object?>);
        var anti = MiniYaml.Seq(d, "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution");
        Assert.Equal("kubernetes.io/hostname", MiniYaml.Str(anti[0], "topologyKey"));
        Assert.Equal(labels, MiniYaml.At(anti[0], "labelSelector.matchLabels") as Dictionary<string, object?>);

        var c = MiniYaml.At(d, "spec.template.spec.containers.0");
        var script = string.Join(' ', MiniYaml.Seq(c, "command").Cast<string>());
        var endpoint = MetricsArgument().Match(script);
        Assert.True(endpoint.Success, script);
        Assert.True(MetricsEndpoint.TryParse(endpoint.Groups[1].Value, out var ep));
        var port = ep.Port;
        Assert.Contains("-c /run/calico-bgp/bird.cfg", script, StringComparison.Ordinal);
        Assert.Equal("/livez", MiniYaml.Str(c, "livenessProbe.httpGet.path"));
        Assert.Equal("/readyz", MiniYaml.Str(c, "readinessProbe.httpGet.path").Split('?')[0]);
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), MiniYaml.Str(c, "livenessProbe.httpGet.port"));
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), MiniYaml.Str(c, "readinessProbe.httpGet.port"));
        var metricsPort = MiniYaml.Seq(c, "ports").Single(p => MiniYaml.Str(p, "name") == "metrics");
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), MiniYaml.Str(metricsPort, "containerPort"));
        var annotations = (Dictionary<string, object?>)MiniYaml.At(d, "spec.template.metadata.annotations")!;
        Assert.Equal("true", annotations["prometheus.io/scrape"]);
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), annotations["prometheus.io/port"]);
        Assert.Equal("/metrics", annotations["prometheus.io/path"]);

        var service = Doc("route-reflector/service.yaml");
        Assert.Equal(labels, MiniYaml.At(service, "spec.selector") as Dictionary<string, object?>);
        var sp = MiniYaml.Seq(service, "spec.ports").Single();
        Assert.Equal("metrics", MiniYaml.Str(sp, "targetPort"));
        var monitor = Doc("route-reflector/servicemonitor.yaml");
        Assert.Equal(MiniYaml.Str(sp, "name"), MiniYaml.Str(monitor, "spec.endpoints.0.port"));
        Assert.Equal("/metrics", MiniYaml.Str(monitor, "spec.endpoints.0.path"));
        Assert.Equal(MiniYaml.At(service, "metadata.labels") as Dictionary<string, object?>, MiniYaml.At(monitor, "spec.selector.matchLabels") as Dictionary<string, object?>);

        var pdb = Doc("route-reflector/poddisruptionbudget.yaml");
        Assert.Equal("1", MiniYaml.Str(pdb, "spec.minAvailable"));
        Assert.Equal(labels, MiniYaml.At(pdb, "spec.selector.matchLabels") as Dictionary<string, object?>);
    }

    [Fact]
    public void Route_reflector_config_is_a_reflector_and_loads()
    {
        var map = Doc("route-reflector/configmap.yaml");
        // Keys with dots cannot be reached by a dotted path.
        var template = (string)((Dictionary<string, object?>)MiniYaml.At(map, "data")!)["bird.cfg.in"]!;
        Assert.Contains("rr client;", template, StringComparison.Ordinal);
        Assert.Contains("rr cluster id 244.0.0.1;", template, StringComparison.Ordinal);
        var deployment = Doc("route-reflector/deployment.yaml");
        var mount = MiniYaml.Seq(deployment, "spec.template.spec.containers.0.volumeMounts").Single(m => MiniYaml.Str(m, "name") == "config");
        Assert.Equal("/etc/calico-bgp", MiniYaml.Str(mount, "mountPath"));

        var path = Path.Combine(Path.GetTempPath(), $"rr-{Guid.NewGuid():N}.cfg");
        File.WriteAllText(path, template.Replace("@POD_IP@", "10.0.0.10", StringComparison.Ordinal));
        try
        {
            var config = ConfigLoader.Load(path, new ConfigLoadOptions());
            var bgp = config.Protocols.OfType<BgpProtocolConfig>().ToList();
            Assert.Equal(2, bgp.Count);
            Assert.All(bgp, b => Assert.Matches("^Node_", b.Name));
            // Learns the pod's routes for the next hops to resolve through, and writes nothing.
            var kernel = Assert.Single(config.Protocols.OfType<KernelProtocolConfig>());
            Assert.True(kernel.Learn);
            Assert.Same(Calico.Bgp.Rib.RouteFilter.RejectAll, kernel.ExportFilter);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Calico_node_patch_mounts_ours_where_calico_node_calls_bird()
    {
        var patch = Doc("calico-node/calico-node-bird-swap.yaml");
        Assert.Equal(("DaemonSet", "calico-node", "kube-system"), (MiniYaml.Str(patch, "kind"), MiniYaml.Str(patch, "metadata.name"), MiniYaml.Str(patch, "metadata.namespace")));
        var node = MiniYaml.Seq(patch, "spec.template.spec.containers").Single(c => MiniYaml.Str(c, "name") == "calico-node");
        var mounts = MiniYaml.Seq(node, "volumeMounts").ToDictionary(m => MiniYaml.Str(m, "mountPath"), m => MiniYaml.At(m, "subPath") as string);
        Assert.Equal("calico-bgpd", mounts["/usr/bin/bird"]);
        Assert.Equal("calico-bgpd", mounts["/usr/bin/bird6"]);
        Assert.Equal("calico-bgpc", mounts["/usr/bin/birdcl"]);
        Assert.Equal("calico-bgpc", mounts["/usr/bin/birdcl6"]);
        var init = MiniYaml.Seq(patch, "spec.template.spec.initContainers").Single();
        Assert.Contains("/opt/calico-bgp/", string.Join(' ', MiniYaml.Seq(init, "command").Cast<string>()), StringComparison.Ordinal);
        var kustomization = Doc("calico-node/kustomization.yaml");
        Assert.Equal("calico-node-bird-swap.yaml", MiniYaml.Str(kustomization, "patches.0.path"));
    }

    [Fact]
    public void The_yaml_reader_reads_what_it_claims()
    {
        var doc = MiniYaml.ParseDocuments("""
            a: 1 # comment
            b:
              - x
              - k: v
                j: "w # not a comment"
            c: [p, "q"]
            d: |
              line 1
                line 2
            e: >-
              folded
              text
            f: {}
            ---
            second: true
            """);
        Assert.Equal(2, doc.Count);
        Assert.Equal("1", MiniYaml.Str(doc[0], "a"));
        Assert.Equal("x", MiniYaml.Str(doc[0], "b.0"));
        Assert.Equal("w # not a comment", MiniYaml.Str(doc[0], "b.1.j"));
        Assert.Equal("q", MiniYaml.Str(doc[0], "c.1"));
        Assert.Equal("line 1\n  line 2\n", MiniYaml.Str(doc[0], "d"));
        Assert.Equal("folded text", MiniYaml.Str(doc[0], "e"));
        Assert.Empty((Dictionary<string, object?>)MiniYaml.At(doc[0], "f")!);
        Assert.Throws<FormatException>(() => MiniYaml.ParseDocuments("a: {b: c}"));
    }

    [GeneratedRegex(@"--metrics\s+(\S+)")]
    private static partial Regex MetricsArgument();
}
