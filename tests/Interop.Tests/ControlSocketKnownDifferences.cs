namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// Differences from BIRD 1.6 that belong to other parts of the daemon, not to the control socket's
/// formatting. Each turns BIRD's (masked) reply into what we print today, so a fix elsewhere makes
/// the comparison fail here and the entry is deleted — none of them is hidden. None is left: the
/// long-lived GR capability ("llgr-aware") and the "Connect delay:"/"Error wait:" timers are printed
/// as BIRD prints them.
/// </summary>
public static class ControlSocketKnownDifferences
{
    public static string ExpectedOfOurs(string birdMasked) => birdMasked;
}
