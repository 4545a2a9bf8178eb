using System.Collections.Concurrent;
using System.Collections.Frozen;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>What a kernel protocol did, for metrics and <c>show protocols all</c>.</summary>
public sealed class KernelCounters
{
    private readonly ConcurrentDictionary<int, long> _errorsByErrno = new();
    private long _installed;
    private long _learned;
    private long _writes;
    private long _writeErrors;
    private long _scans;
    private long _resyncs;
    private long _repairs;
    private long _nexthops;

    /// <summary>Routes of ours in the kernel now.</summary>
    public long RoutesInstalled => Interlocked.Read(ref _installed);
    /// <summary>Alien kernel routes imported now (<c>learn</c>).</summary>
    public long RoutesLearned => Interlocked.Read(ref _learned);
    /// <summary>Route writes sent (adds, replaces, deletes).</summary>
    public long Writes => Interlocked.Read(ref _writes);
    public long WriteErrors => Interlocked.Read(ref _writeErrors);
    /// <summary>Failed writes by errno (ENETUNREACH 101, EEXIST 17 …).</summary>
    public IReadOnlyDictionary<int, long> WriteErrorsByErrno => _errorsByErrno.ToFrozenDictionary();
    public long Scans => Interlocked.Read(ref _scans);
    /// <summary>Full resyncs forced by lost notifications (ENOBUFS).</summary>
    public long Resyncs => Interlocked.Read(ref _resyncs);
    /// <summary>Routes put back or removed because the kernel drifted from what we wrote.</summary>
    public long Repairs => Interlocked.Read(ref _repairs);
    /// <summary>Kernel nexthop objects of ours that routes name (0 when routes carry their gateways).</summary>
    public long NexthopObjects => Interlocked.Read(ref _nexthops);

    internal void SetInstalled(long n) => Interlocked.Exchange(ref _installed, n);
    internal void SetLearned(long n) => Interlocked.Exchange(ref _learned, n);
    internal void SetNexthopObjects(long n) => Interlocked.Exchange(ref _nexthops, n);
    internal void CountWrites(int n) => Interlocked.Add(ref _writes, n);
    internal void CountScan() => Interlocked.Increment(ref _scans);
    internal void CountResync() => Interlocked.Increment(ref _resyncs);
    internal void CountRepairs(int n) => Interlocked.Add(ref _repairs, n);

    internal void CountError(int errno)
    {
        Interlocked.Increment(ref _writeErrors);
        _errorsByErrno.AddOrUpdate(errno, 1, static (_, v) => v + 1);
    }
}
