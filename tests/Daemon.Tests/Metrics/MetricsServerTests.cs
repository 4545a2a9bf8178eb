using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Daemon.Health;
using Calico.Bgp.Daemon.Metrics;
using Calico.Bgp.Daemon.Tests.Control;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Daemon.Tests.Metrics;

/// <summary>The HTTP listener over loopback: /metrics, /livez, /readyz and the rest.</summary>
public class MetricsServerTests
{
    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [Theory]
    [InlineData("127.0.0.1:9091", "127.0.0.1")]
    [InlineData("0.0.0.0:9091", "0.0.0.0")]
    [InlineData(":9091", "::")]
    [InlineData("*:9091", "::")]
    [InlineData("[::]:9091", "::")]
    [InlineData("[::1]:9091", "::1")]
    public void Endpoints_bind_exactly_the_address_given(string endpoint, string address)
    {
        Assert.True(MetricsEndpoint.TryParse(endpoint, out var ep));
        Assert.Equal(IPAddress.Parse(address), ep.Address);
        Assert.Equal(9091, ep.Port);
    }

    [Theory]
    [InlineData("9091")]
    [InlineData("localhost:9091")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:70000")]
    public void Bad_endpoints_are_refused(string endpoint) => Assert.False(MetricsEndpoint.TryParse(endpoint, out _));

    [Fact]
    public async Task Serves_metrics_liveness_and_readiness()
    {
        var time = TimeProvider.System;
        var source = new FakeMetricsSource { StartedAt = time.GetUtcNow() };
        var peer = new FakeProtocol("Mesh_10_0_0_2", "BGP", source.Table, time, 100);
        peer.Set(ProtocolState.Start, "Active");
        source.ProtocolList.Add(peer);
        var port = FreePort();
        var liveness = new LivenessMonitor(time);
        await using var server = new MetricsServer($"127.0.0.1:{port}", new DaemonMetrics(source, time), source, liveness, new HealthOptions(), time, NullLoggerFactory.Instance);
        await server.StartAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var metrics = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal("text/plain", metrics.Content.Headers.ContentType?.MediaType);
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("calico_bgp_protocol_up{protocol=\"Mesh_10_0_0_2\",type=\"BGP\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("process_cpu_seconds_total", text, StringComparison.Ordinal);

        var live = await http.GetAsync("/livez");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        var notReady = await http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Equal("fail: BGP not established with 10.0.0.2\n", await notReady.Content.ReadAsStringAsync());
        // Past a zero-length window one Established peer would do; none is.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz?threshold-time=0")).StatusCode);
        peer.Set(ProtocolState.Up, "Established");
        var ready = await http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ok: all BGP peers established\n", await ready.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync("/metrics", null)).StatusCode);

        // Probes and scrapers name the pod or node in Host; the answer must not depend on it.
        using var other = new HttpRequestMessage(HttpMethod.Get, "/livez");
        other.Headers.Host = "10.1.2.3:9091";
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(other)).StatusCode);
        await server.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_garbled_request_gets_400_and_the_server_keeps_serving()
    {
        var time = TimeProvider.System;
        var source = new FakeMetricsSource { StartedAt = time.GetUtcNow() };
        var port = FreePort();
        await using var server = new MetricsServer($"127.0.0.1:{port}", new DaemonMetrics(source, time), source, new LivenessMonitor(time), new HealthOptions(), time, NullLoggerFactory.Instance);
        await server.StartAsync(CancellationToken.None);
        using (var raw = new TcpClient())
        {
            await raw.ConnectAsync(IPAddress.Loopback, port);
            var stream = raw.GetStream();
            await stream.WriteAsync("NONSENSE\r\n\r\n"u8.ToArray());
            var reply = await new StreamReader(stream).ReadToEndAsync();
            Assert.StartsWith("HTTP/1.1 400 ", reply, StringComparison.Ordinal);
        }
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/livez")).StatusCode);
        await server.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_port_in_use_is_a_start_error()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var source = new FakeMetricsSource();
        await using var server = new MetricsServer($"127.0.0.1:{port}", new DaemonMetrics(source, TimeProvider.System, processMetrics: false), source,
            new LivenessMonitor(TimeProvider.System), new HealthOptions(), TimeProvider.System, NullLoggerFactory.Instance);
        var e = await Assert.ThrowsAsync<Calico.Bgp.Daemon.Hosting.DaemonStartException>(() => server.StartAsync(CancellationToken.None));
        Assert.Contains($"127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
    }
}
