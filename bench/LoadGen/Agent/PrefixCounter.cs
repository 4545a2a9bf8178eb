using System.Buffers.Binary;
using System.Diagnostics;

namespace Calico.Bgp.LoadGen.Agent;

/// <summary>
/// What one monitor speaker holds: the distinct prefixes announced to it and not withdrawn, with
/// the moment the expected count was reached. UPDATEs are walked by hand (no RIB objects) so the
/// monitor costs far less per prefix than the daemon it measures; the self-check proves that.
/// </summary>
public sealed class PrefixCounter
{
    private const byte MpReach = 14;
    private const byte MpUnreach = 15;
    private const byte ExtendedLength = 0x10;

    private readonly HashSet<ulong> _present = [];
    // Per-prefix first-announce and withdraw times, only for the churn latency scenario.
    private readonly Dictionary<ulong, long>? _announcedAt;
    private readonly Dictionary<ulong, long>? _withdrawnAt;
    // With ADD-PATH, which paths of each prefix are held (timed counters only): a withdrawal names a
    // path, and a prefix leaves when its last path does. A DUT that replaces a path (announces a new
    // id, withdraws the old; FRR as reflector does under churn) has not withdrawn the prefix.
    private readonly HashSet<(ulong Key, uint PathId)>? _paths;
    private readonly Dictionary<ulong, int>? _pathsOf;
    private int _count;
    private long _reachedAt;
    private long _emptiedAt;

    public PrefixCounter(int target, bool trackTimes = false)
    {
        Target = target;
        if (trackTimes)
        {
            _announcedAt = [];
            _withdrawnAt = [];
            _paths = [];
            _pathsOf = [];
        }
    }

    /// <summary>The count at which <see cref="ReachedAt"/> is stamped (0: never).</summary>
    public int Target { get; set; }

    public int Count => Volatile.Read(ref _count);

    /// <summary>Stopwatch timestamp when the count first reached the target, or 0.</summary>
    public long ReachedAt => Volatile.Read(ref _reachedAt);

    /// <summary>Stopwatch timestamp when the count, having reached the target, first fell back to 0 (every prefix withdrawn), or 0.</summary>
    public long EmptiedAt => Volatile.Read(ref _emptiedAt);

    public long Updates { get; private set; }
    public long Announcements { get; private set; }
    public long Withdrawals { get; private set; }

    /// <summary>Timed counters: prefixes withdrawn and announced again in the same read (the DUT replaced the path), before the churner's withdrawal.</summary>
    public long Replaced { get; private set; }

    /// <summary>Timed counters: prefixes announced again in a later read after a withdrawal the churner did not send (the DUT took one back for a while).</summary>
    public long Reannounced { get; private set; }

    /// <summary>Whether per-prefix times are kept (P4's monitors, whose speakers then read the kernel's receive stamps).</summary>
    public bool TracksTimes => _announcedAt is not null;

    public IReadOnlyDictionary<ulong, long> AnnouncedAt => _announcedAt ?? [];
    public IReadOnlyDictionary<ulong, long> WithdrawnAt => _withdrawnAt ?? [];

    /// <summary>A prefix as one number: up to 56 address bits and the length (enough for /24, /32, /48).</summary>
    public static ulong Key(ReadOnlySpan<byte> addressBytes, int length)
    {
        ulong k = 0;
        for (var i = 0; i < 7; i++)
            k = (k << 8) | (i < addressBytes.Length ? addressBytes[i] : (byte)0);
        return (k << 8) | (byte)length;
    }

    /// <summary>
    /// Counts one UPDATE body (RFC 4271 §4.3, RFC 4760 for IPv6) that arrived at <paramref name="now"/>
    /// (a Stopwatch timestamp), path ids per the negotiated ADD-PATH.
    /// </summary>
    public void Process(ReadOnlySpan<byte> body, bool addPathV4, bool addPathV6, long now)
    {
        Updates++;
        var wlen = BinaryPrimitives.ReadUInt16BigEndian(body);
        Walk(body.Slice(2, wlen), addPathV4, false, now);
        var alen = BinaryPrimitives.ReadUInt16BigEndian(body[(2 + wlen)..]);
        var attrs = body.Slice(4 + wlen, alen);
        while (attrs.Length >= 3)
        {
            var flags = attrs[0];
            var type = attrs[1];
            int len, hdr;
            if ((flags & ExtendedLength) != 0)
            {
                len = BinaryPrimitives.ReadUInt16BigEndian(attrs[2..]);
                hdr = 4;
            }
            else
            {
                len = attrs[2];
                hdr = 3;
            }
            var value = attrs.Slice(hdr, len);
            if (type == MpReach)
            {
                int nh = value[3];
                Walk(value[(5 + nh)..], addPathV6, true, now);
            }
            else if (type == MpUnreach)
            {
                Walk(value[3..], addPathV6, false, now);
            }
            attrs = attrs[(hdr + len)..];
        }
        Walk(body[(4 + wlen + alen)..], addPathV4, true, now);
    }

    private void Walk(ReadOnlySpan<byte> nlri, bool addPath, bool announce, long now)
    {
        while (!nlri.IsEmpty)
        {
            uint pathId = 0;
            if (addPath)
            {
                pathId = BinaryPrimitives.ReadUInt32BigEndian(nlri);
                nlri = nlri[4..];
            }
            int bits = nlri[0];
            var bytes = (bits + 7) / 8;
            var key = Key(nlri.Slice(1, bytes), bits);
            nlri = nlri[(1 + bytes)..];
            if (addPath && _paths is not null && !PathChangesPrefix(key, pathId, announce))
            {
                if (announce)
                    Announcements++;
                else
                    Withdrawals++;
                continue;
            }
            if (announce)
            {
                Announcements++;
                if (_present.Add(key))
                {
                    // Back after a withdrawal the churner did not send: its withdrawal is still to come, and
                    // only the one after the churner's counts. Withdrawn and announced in the same read, the
                    // DUT replaced the path (FRR under churn); later, it took the prefix back for a while.
                    if (_announcedAt is not null && !_announcedAt.TryAdd(key, now) && _withdrawnAt!.Remove(key, out var withdrawn))
                    {
                        if (withdrawn == now)
                            Replaced++;
                        else
                            Reannounced++;
                    }
                    var c = Interlocked.Increment(ref _count);
                    if (c == Target && _reachedAt == 0)
                        Volatile.Write(ref _reachedAt, now);
                }
            }
            else
            {
                Withdrawals++;
                if (_present.Remove(key))
                {
                    _withdrawnAt?.TryAdd(key, now);
                    if (Interlocked.Decrement(ref _count) == 0 && _reachedAt != 0 && _emptiedAt == 0)
                        Volatile.Write(ref _emptiedAt, now);
                }
            }
        }
    }

    /// <summary>
    /// Keeps the path's arrival or departure; true when it is the prefix's first path or its last
    /// (the prefix comes or goes), false for another path of a prefix held, or a path not held.
    /// </summary>
    private bool PathChangesPrefix(ulong key, uint pathId, bool announce)
    {
        if (announce)
        {
            if (!_paths!.Add((key, pathId)))
                return false;
            ref var n = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_pathsOf!, key, out _);
            return ++n == 1;
        }
        if (!_paths!.Remove((key, pathId)))
            return false;
        ref var left = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_pathsOf!, key);
        if (--left > 0)
            return false;
        _pathsOf!.Remove(key);
        return true;
    }
}
