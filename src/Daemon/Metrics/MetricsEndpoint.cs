using System.Globalization;
using System.Net;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>The <c>--metrics ADDR:PORT</c> value as an <see cref="HttpListener"/> prefix.</summary>
public static class MetricsEndpoint
{
    /// <summary>
    /// <c>127.0.0.1:9091</c>, <c>[::1]:9091</c>, <c>:9091</c>, <c>0.0.0.0:9091</c> or <c>[::]:9091</c>
    /// (the last three: every address) → <c>http://HOST:PORT/</c>.
    /// </summary>
    public static bool TryParse(string text, out string prefix, out int port)
    {
        prefix = "";
        port = 0;
        var colon = text.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            return false;
        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
            host = host[1..^1];
        string listenHost;
        if (host.Length == 0 || host == "*")
            listenHost = "+";
        else if (IPAddress.TryParse(host, out var address))
        {
            if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
                listenHost = "+";
            else
                listenHost = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        }
        else
            return false;
        prefix = $"http://{listenHost}:{port.ToString(CultureInfo.InvariantCulture)}/";
        return true;
    }
}
