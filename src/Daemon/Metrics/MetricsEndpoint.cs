using System.Globalization;
using System.Net;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>The <c>--metrics ADDR:PORT</c> value.</summary>
public static class MetricsEndpoint
{
    /// <summary>
    /// <c>127.0.0.1:9091</c>, <c>[::1]:9091</c>; <c>:9091</c>, <c>*:9091</c> and <c>[::]:9091</c> mean
    /// every address (IPv4 and IPv6), <c>0.0.0.0:9091</c> every IPv4 address. Host names are refused:
    /// the listener binds only where the operator said.
    /// </summary>
    public static bool TryParse(string text, out IPEndPoint endpoint)
    {
        endpoint = new IPEndPoint(IPAddress.None, 0);
        var colon = text.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            return false;
        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
            host = host[1..^1];
        IPAddress? address;
        if (host.Length == 0 || host == "*")
            address = IPAddress.IPv6Any;
        else if (!IPAddress.TryParse(host, out address))
            return false;
        endpoint = new IPEndPoint(address, port);
        return true;
    }
}
