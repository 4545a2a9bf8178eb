using System.Text.RegularExpressions;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// Differences from BIRD 1.6 that belong to other parts of the daemon, not to the control socket's
/// formatting. Each turns BIRD's (masked) reply into what we print today, so a fix elsewhere makes
/// the comparison fail here and the entry is deleted — none of them is hidden.
/// </summary>
public static partial class ControlSocketKnownDifferences
{
    public static string ExpectedOfOurs(string birdMasked)
    {
        // src/Bgp (Capabilities' Describe): the peer's long-lived GR capability (BIRD 2 sends it) is
        // not decoded, so "llgr-aware" is missing from "Neighbor caps:".
        var text = birdMasked.Replace(" llgr-aware", "", StringComparison.Ordinal);
        // src/Bgp (BgpSessionInfo, BgpProtocol.Snapshot): the connect-retry and error-wait timers
        // are not in the snapshot, so "Connect delay:" and "Error wait:" cannot be printed.
        text = StartTimers().Replace(text, "");
        return text;
    }

    [GeneratedRegex(@"^(1006-| )?    (Connect delay|Error wait): .*\n", RegexOptions.Multiline)]
    private static partial Regex StartTimers();
}
