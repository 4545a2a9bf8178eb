using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// Our daemon with <c>--metrics</c> and <c>--log-format json</c> in a namespace, peering with BIRD 2:
/// the scrape agrees with the control socket and passes promtool, readiness follows the peer,
/// <c>calico-bgpc health</c> agrees with /readyz, and every log line is a JSON object.
/// </summary>
public partial class MetricsTests
{
    private const string Promtool = "/usr/bin/promtool";
    private const int Port = 9191;
    private const string Protocol = "Node_10_0_0_2";
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(40);

    private const string OurConfig = """
        router id 10.0.0.1;
        protocol kernel {
          learn;
          persist;
          scan time 2;
          import all;
          export all;
        }
        protocol device {
          scan time 2;
        }
        protocol direct { interface -"cali*", -"kube-ipvs*", "*"; }
        protocol static {
          route 10.60.1.0/24 blackhole;
          route 10.60.2.0/24 blackhole;
        }
        protocol bgp Node_10_0_0_2 {
          local as 64512;
          neighbor 10.0.0.2 as 64512;
          source address 10.0.0.1;
          connect delay time 2;  # Calico's template timers: back within seconds after a peer failure
          connect retry time 5;
          error wait time 5,30;
          import all;
          export all;
        }
        """;

    /// <summary>An HTTP/1.0 GET from inside the namespace with bash's /dev/tcp (no curl needed): status and body.</summary>
    private static async Task<(int Status, string Body)> GetAsync(LabHost host, string path)
    {
        var r = await host.RunAsync("bash", "-c", $"exec 3<>/dev/tcp/127.0.0.1/{Port}; printf 'GET {path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3; cat <&3");
        r.ThrowIfFailed($"GET {path}");
        var text = r.StdOut.Replace("\r\n", "\n", StringComparison.Ordinal);
        var split = text.IndexOf("\n\n", StringComparison.Ordinal);
        Assert.True(split > 0, $"no HTTP response to GET {path}: {text}");
        var status = int.Parse(text.Split(' ')[1], CultureInfo.InvariantCulture);
        return (status, text[(split + 2)..]);
    }

    private static double Value(string scrape, string series)
    {
        foreach (var line in scrape.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
                return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
        }
        throw new KeyNotFoundException($"{series} not in the scrape:\n{scrape}");
    }

    private static double Sum(string scrape, string metric) =>
        scrape.Split('\n').Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    [Fact]
    public async Task Scrape_readiness_health_and_json_logs_agree_with_the_control_socket()
    {
        Assert.True(File.Exists(Promtool), $"{Promtool} is missing; Debian's prometheus package provides it (add it to tools/setup.sh)");
        await using var lab = await TestLab.CreateAsync("metrics");
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "10.0.0.1/24", b, "10.0.0.2/24");
        var bird = await BirdPeer.StartBird2Async(b, PeerConfigs.Bird2("10.0.0.2", "10.0.0.2", 64512, "10.0.0.1", 64512, "10.50.1.0/24", "10.50.2.0/24", "10.50.3.0/24"));
        var ours = await OurDaemon.StartAsync(a, OurConfig, "--metrics", $"127.0.0.1:{Port}", "--log-format", "json");

        async Task<string> Describe() =>
            await ours.CommandAsync("show protocols all") + await ours.CommandAsync("show route count") + "\nours:\n" + ours.Process!.Output + lab.Diagnostics();

        await Wait.UntilAsync(async () => await ours.IsEstablishedAsync(Protocol)
                && (await ours.CommandAsync($"show protocols all {Protocol}")).Contains("3 imported", StringComparison.Ordinal),
            Converge, "the session to establish and B's three blocks to arrive", Describe);
        // Within a long start-up window every peer must be Established: it is.
        await Wait.UntilAsync(async () => (await GetAsync(a, "/readyz?threshold-time=600")).Status == 200, Converge, "/readyz to say ready", Describe);

        // The scrape says what the control socket says.
        var (status, scrape) = await GetAsync(a, "/metrics");
        Assert.Equal(200, status);
        var all = await ours.CommandAsync($"show protocols all {Protocol}");
        var routes = RoutesLine().Match(all);
        Assert.True(routes.Success, all);
        Assert.Equal(double.Parse(routes.Groups[1].Value, CultureInfo.InvariantCulture), Value(scrape, $"calico_bgp_protocol_prefixes_accepted{{protocol=\"{Protocol}\",family=\"ipv4\"}}"));
        Assert.Equal(double.Parse(routes.Groups[2].Value, CultureInfo.InvariantCulture), Value(scrape, $"calico_bgp_protocol_prefixes_advertised{{protocol=\"{Protocol}\",family=\"ipv4\"}}"));
        Assert.Equal(1, Value(scrape, $"calico_bgp_session_established{{protocol=\"{Protocol}\"}}"));
        Assert.Equal(1, Value(scrape, $"calico_bgp_session_state{{protocol=\"{Protocol}\",state=\"Established\"}}"));
        Assert.True(Value(scrape, $"calico_bgp_session_uptime_seconds{{protocol=\"{Protocol}\"}}") >= 0);
        var count = RouteCount().Match(await ours.CommandAsync("show route count"));
        Assert.True(count.Success, await ours.CommandAsync("show route count"));
        Assert.Equal(double.Parse(count.Groups[1].Value, CultureInfo.InvariantCulture), Sum(scrape, "calico_bgp_rib_routes"));
        Assert.Equal(double.Parse(count.Groups[2].Value, CultureInfo.InvariantCulture), Value(scrape, "calico_bgp_rib_prefixes{table=\"master\"}"));
        Assert.Equal(1, Value(scrape, "calico_bgp_config_generation"));
        Assert.True(Value(scrape, "calico_bgp_kernel_routes_installed{protocol=\"kernel1\"}") >= 3, scrape);
        // B's three blocks go through one gateway: one nexthop object, as the kernel itself says.
        Assert.Equal((await a.NexthopsAsync()).Count, Value(scrape, "calico_bgp_kernel_nexthop_objects{protocol=\"kernel1\"}"));
        Assert.Equal(1, Value(scrape, "calico_bgp_kernel_nexthop_objects{protocol=\"kernel1\"}"));

        var promtool = await Shell.RunAsync(Promtool, ["check", "metrics"], stdin: scrape);
        Assert.True(promtool.Ok, $"promtool check metrics:\n{promtool.StdOut}{promtool.StdErr}");

        Assert.Equal(200, (await GetAsync(a, "/livez")).Status);
        var health = await Shell.RunAsync(LabTools.Client, ["-s", ours.Socket, "health", "--threshold-time", "600"]);
        Assert.True(health.Ok, health.StdOut + health.StdErr);

        // The peer goes away: within the window that is not ready, over HTTP and over the socket.
        await bird.Process!.KillAsync();
        await Wait.UntilAsync(async () => (await GetAsync(a, "/readyz?threshold-time=600")).Status == 503, Converge, "/readyz to say not ready", Describe);
        Assert.Contains("BGP not established with 10.0.0.2", (await GetAsync(a, "/readyz?threshold-time=600")).Body, StringComparison.Ordinal);
        health = await Shell.RunAsync(LabTools.Client, ["-s", ours.Socket, "health", "--threshold-time", "600"]);
        Assert.Equal(1, health.ExitCode);
        Assert.Contains("BGP not established with 10.0.0.2", health.StdOut, StringComparison.Ordinal);
        Assert.Equal(0, Value((await GetAsync(a, "/metrics")).Body, $"calico_bgp_session_established{{protocol=\"{Protocol}\"}}"));

        // And comes back.
        await bird.RestartAsync();
        await Wait.UntilAsync(async () => (await GetAsync(a, "/readyz?threshold-time=600")).Status == 200, Converge, "/readyz to say ready again", Describe);

        // Every line the daemon wrote is one JSON object with the console formatter's fields.
        var lines = ours.Process!.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            Assert.True(json.RootElement.TryGetProperty("LogLevel", out _), line);
            Assert.True(json.RootElement.TryGetProperty("Category", out _), line);
            Assert.True(json.RootElement.TryGetProperty("Message", out _), line);
        }
    }

    [GeneratedRegex(@"Routes:\s+(\d+) imported, (\d+) exported")]
    private static partial Regex RoutesLine();

    [GeneratedRegex(@"(\d+) of \d+ routes for (\d+) networks")]
    private static partial Regex RouteCount();
}
