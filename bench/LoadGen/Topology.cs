using System.Globalization;
using System.Net;

namespace Calico.Bgp.LoadGen;

/// <summary>
/// Addresses of the bench: the DUT alone on one end of a veth pair, every emulated speaker an
/// address of its own on the generator's end, all in one /16 (one /64 for IPv6) so each session
/// is directly connected.
/// </summary>
public static class Topology
{
    public const string DutV4 = "10.0.0.1";
    public const string DutV6 = "fd00::1";
    public const int V4Length = 16;
    public const int V6Length = 64;
    public const uint DutAs = 64512;
    public const string ClusterId = "1.1.1.1";

    /// <summary>Speaker <paramref name="i"/> (0-based): 10.0.(1 + i / 250).(1 + i % 250).</summary>
    public static string SpeakerV4(int i) => string.Create(CultureInfo.InvariantCulture, $"10.0.{1 + (i / 250)}.{1 + (i % 250)}");

    public static string SpeakerV6(int i) => string.Create(CultureInfo.InvariantCulture, $"fd00::1:{i + 1:x}");

    public static string Speaker(int i, bool v6) => v6 ? SpeakerV6(i) : SpeakerV4(i);

    public static IPAddress Dut(bool v6) => IPAddress.Parse(v6 ? DutV6 : DutV4);
}
