using System.Runtime.InteropServices;

namespace Calico.Bgp.Rib.Tests;

/// <summary>
/// How the map's growth touches fresh memory: a big new array is faulted in writable at once, not
/// first mapped to the zero page by the rebuild's reads and then copied on its writes. Counted in the
/// kernel's minor faults of this thread, not timed.
/// </summary>
public partial class PrefixMapGrowthFaultTests
{
    private readonly TestProtocol _protocol = new("p", new RoutingTable());
    private long _version;

    private RouteEntry Entry(int i)
    {
        var prefix = new Prefix(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24);
        return RouteEntry.Seal(prefix, Route.Create(prefix, PathAttributes.Empty, _protocol), ++_version);
    }

    private const int MiBOfCells = 1 << 17;

    [Fact]
    public void A_growth_to_an_array_of_a_MiB_or_more_faults_each_of_its_pages_once()
    {
        var map = new PrefixMap();
        var entries = Enumerable.Range(0, 3 * MiBOfCells).Select(Entry).ToArray();
        var pageSize = Environment.SystemPageSize;
        var growths = new List<(int Pages, long Faults)>();
        foreach (var entry in entries)
        {
            var capacity = map.Capacity;
            var collections = GC.CollectionCount(0);
            var before = ThreadMinorFaults();
            map.Set(entry);
            var faults = ThreadMinorFaults() - before;
            // A collection inside the insert (a new page of entry references can set one off) faults
            // pages of its own on this thread: such a growth says nothing about the array's.
            if (map.Capacity != capacity && map.Capacity >= MiBOfCells && GC.CollectionCount(0) == collections)
                growths.Add(((int)((long)map.Capacity * sizeof(long) / pageSize), faults));
        }

        Assert.NotEmpty(growths);
        // Each page once, and a few more (the entries' pages); reading before writing faulted each twice.
        Assert.All(growths, g => Assert.True(g.Faults < g.Pages * 5 / 4, $"{g.Faults} faults for an array of {g.Pages} pages"));
    }

    private static long ThreadMinorFaults()
    {
        // struct rusage: two timevals, then ru_maxrss, ru_ixrss, ru_idrss, ru_isrss, ru_minflt, ...
        Span<long> usage = stackalloc long[18];
        Assert.Equal(0, GetRusage(RusageThread, ref MemoryMarshal.GetReference(usage)));
        return usage[8];
    }

    private const int RusageThread = 1;

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, ref long usage);
}
