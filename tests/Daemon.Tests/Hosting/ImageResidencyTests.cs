using Calico.Bgp.Daemon.Hosting;

namespace Calico.Bgp.Daemon.Tests.Hosting;

/// <summary>
/// The daemon drops the resident pages of its image and libraries that it no longer runs: only
/// private read-only mappings of code with no page of their own, and the process runs on.
/// </summary>
public sealed class ImageResidencyTests
{
    [Fact]
    public void Releasing_the_code_it_does_not_run_lowers_this_processs_file_backed_memory_and_it_runs_on()
    {
        var before = StatusKiloBytes("RssFile");
        var released = ImageResidency.Release();
        var after = StatusKiloBytes("RssFile");

        // The test host runs from shared libraries (the runtime's libcoreclr.so, several MiB resident).
        Assert.Contains(released, m => m.Path.EndsWith("/libcoreclr.so", StringComparison.Ordinal));
        Assert.All(released, m => Assert.True(m.End > m.Start));
        Assert.True(after < before, $"RssFile {before} kB before, {after} kB after");

        // Code whose pages went comes back on use: the runtime, the JIT and the libraries still work.
        var sum = Enumerable.Range(1, 1000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Sum(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(500_500, sum);
        GC.Collect();
        Assert.True(StatusKiloBytes("RssFile") > 0);
    }

    [Fact]
    public void Only_private_read_only_code_mappings_without_pages_of_their_own_are_released()
    {
        // As this machine's /proc/PID/smaps has them (fields cut to the ones read, one kept per kind).
        string[] smaps =
        [
            "55bb92fe4000-55bb92ff5000 r--p 00000000 fe:00 11690345                   /opt/calico/calico-bgpd",
            "Size:                 68 kB",
            "Rss:                  68 kB",
            "Anonymous:             0 kB",
            "55bb92ff5000-55bb93471000 r-xp 00011000 fe:00 11690345                   /opt/calico/calico-bgpd",
            "Size:               4592 kB",
            "Anonymous:             0 kB",
            // A relocated read-only segment (RELRO): its pages are copies, dropping them would undo the relocations.
            "55bb9369a000-55bb9369b000 r--p 006b6000 fe:00 11690345                   /opt/calico/calico-bgpd",
            "Anonymous:             4 kB",
            "55bb93828000-55bb93847000 rw-p 00843000 fe:00 11690345                   /opt/calico/calico-bgpd",
            "Anonymous:            64 kB",
            "7f650be0d000-7f650bf63000 r-xp 00026000 fe:00 2234                       /usr/lib/x86_64-linux-gnu/libc.so.6",
            "Anonymous:             0 kB",
            "7f650c100000-7f650c180000 r-xs 00000000 fe:00 4455                       /usr/lib/x86_64-linux-gnu/libshared.so",
            "Anonymous:             0 kB",
            "7f650c200000-7f650c280000 r--p 00000000 fe:00 4456                       /var/lib/data.bin",
            "Anonymous:             0 kB",
            "7f650c300000-7f650c380000 r-xp 00000000 fe:00 4457                       /usr/lib/libold.so (deleted)",
            "Anonymous:             0 kB",
            "7f650c400000-7f650c480000 ---p 00000000 00:00 0 ",
            "Anonymous:             0 kB",
            "7ffd1a5f0000-7ffd1a5f2000 r-xp 00000000 00:00 0                          [vdso]",
            "Anonymous:             0 kB",
        ];

        var released = ImageResidency.Releasable(smaps, "/opt/calico/calico-bgpd");

        Assert.Equal(
            [
                new ImageResidency.Mapping(0x55bb92fe4000, 0x55bb92ff5000, "/opt/calico/calico-bgpd"),
                new ImageResidency.Mapping(0x55bb92ff5000, 0x55bb93471000, "/opt/calico/calico-bgpd"),
                new ImageResidency.Mapping(0x7f650be0d000, 0x7f650bf63000, "/usr/lib/x86_64-linux-gnu/libc.so.6"),
            ],
            released);
    }

    private static long StatusKiloBytes(string field)
    {
        var line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
