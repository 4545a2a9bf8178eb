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
        var released = ImageResidency.Releasable(Smaps, "/opt/calico/calico-bgpd");

        Assert.Equal(Expected, released);
    }

    [Theory]
    [InlineData(128)] // a header line (~100 bytes) and its fields straddle nearly every read
    [InlineData(8192)] // the daemon's buffer: the whole text in one read
    public void The_text_read_through_a_buffer_gives_the_same_mappings_whatever_its_size(int bufferSize)
    {
        var text = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', Smaps) + "\n");

        var released = ImageResidency.Releasable(new MemoryStream(text), "/opt/calico/calico-bgpd", new byte[bufferSize]);

        Assert.Equal(Expected, released);
    }

    [Fact]
    public void A_line_longer_than_the_buffer_is_passed_over_and_the_mappings_after_it_are_read()
    {
        // A library at a path longer than the buffer: not released (its header cannot be read whole),
        // and neither are its fields taken for the mapping before it.
        string[] smaps =
        [
            "55bb92fe4000-55bb92ff5000 r--p 00000000 fe:00 11690345                   /opt/calico/calico-bgpd",
            $"7f650c500000-7f650c580000 r-xp 00000000 fe:00 4458                       /usr/lib/{new string('x', 300)}.so",
            "Anonymous:             0 kB",
            "7f650be0d000-7f650bf63000 r-xp 00026000 fe:00 2234                       /usr/lib/x86_64-linux-gnu/libc.so.6",
            "Anonymous:             0 kB",
        ];
        var text = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', smaps));

        var released = ImageResidency.Releasable(new MemoryStream(text), "/opt/calico/calico-bgpd", new byte[256]);

        // The executable's first mapping had no Anonymous line before the long header: undecided, not released.
        Assert.Equal([new ImageResidency.Mapping(0x7f650be0d000, 0x7f650bf63000, "/usr/lib/x86_64-linux-gnu/libc.so.6")], released);
    }

    private static readonly ImageResidency.Mapping[] Expected =
    [
        new(0x55bb92fe4000, 0x55bb92ff5000, "/opt/calico/calico-bgpd"),
        new(0x55bb92ff5000, 0x55bb93471000, "/opt/calico/calico-bgpd"),
        new(0x7f650be0d000, 0x7f650bf63000, "/usr/lib/x86_64-linux-gnu/libc.so.6"),
    ];

    [Fact]
    public void Reading_the_process_s_mappings_allocates_next_to_nothing()
    {
        // Release runs at start-up's peak and after every collection the daemon asks for: the smaps
        // text (~25 lines a mapping) read as strings was 620 KB of garbage a call in the daemon.
        ImageResidency.Release();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var released = ImageResidency.Release();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.NotEmpty(released);
        // What is left: the list of what was released and each one's path.
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated to release {released.Count} mappings");
    }

    // As this machine's /proc/PID/smaps has them (fields cut to the ones read, one kept per kind).
    private static readonly string[] Smaps =
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

    private static long StatusKiloBytes(string field)
    {
        var line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
