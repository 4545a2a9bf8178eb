using System.Reflection;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>Names and versions the daemon reports.</summary>
public static class BuildInfo
{
    public const string Product = "calico-bgp";

    /// <summary>
    /// The version BIRD-compatible tools see. Calico's parsers read <c>BIRD v…</c> and nothing else
    /// from it; the <c>v0.3.3+birdv1.6.8</c> shape of Calico's fork is kept and our name appended, so
    /// an operator can tell which daemon answers.
    /// </summary>
    public static string BirdCompatibleVersion => $"v0.3.3+birdv1.6.8+{Product}-{Version}";

    public static string Version { get; } =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
