namespace Calico.Bgp.Daemon.Control;

/// <summary>The version text the daemon reports after <c>BIRD </c>.</summary>
public static class BirdVersion
{
    /// <summary>
    /// Calico's BIRD fork reports <c>v0.3.3+birdv1.6.8</c>. Calico's consumers need the banner and
    /// <c>1000-</c> line to read <c>BIRD v…</c> (the status reporter takes the text after <c>BIRD </c>
    /// as the version; the liveness probe needs birdcl's output to start with <c>BIRD</c>), so we keep
    /// the fork's string as a prefix and say that it is ours in semver build metadata (hyphens and
    /// dots are legal there): <c>v0.3.3+birdv1.6.8-calico-bgp-0.1</c>. One token, no spaces, so
    /// <c>BIRD %s ready.</c> still splits as BIRD's does.
    /// </summary>
    public const string Default = "v0.3.3+birdv1.6.8-calico-bgp-0.1";
}
