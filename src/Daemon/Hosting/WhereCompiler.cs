using System.Diagnostics.CodeAnalysis;
using Calico.Bgp.Config;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary><c>show route where …</c>: the condition compiled by the config's filter compiler.</summary>
internal static class WhereCompiler
{
    public static bool TryCompile(BirdConfig? config, string condition, [NotNullWhen(true)] out RouteFilter? filter, out string error)
    {
        try
        {
            filter = WhereCondition.Compile(condition, new ConfigLoadOptions { Ipv6 = config?.Ipv6 ?? false, DualStack = config?.DualStack ?? false });
            error = "";
            return true;
        }
        catch (ConfigException e)
        {
            filter = null;
            // BIRD answers a bad condition with its parser's message and no location.
            error = e.Reason;
            return false;
        }
    }
}
