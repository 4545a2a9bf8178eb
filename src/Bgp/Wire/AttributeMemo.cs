using System.Diagnostics.CodeAnalysis;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>
/// A session's last Path Attributes field and what it decoded to, and the interned set it last
/// became. A peer that announces its prefixes an UPDATE each (Calico's /32s, a node's blocks one by
/// one) sends the same field again and again: a field seen last time is compared, not decoded, and
/// its set is not interned again. Only the field of an UPDATE with IPv4 NLRI that decoded without any
/// RFC 7606 action and carried no MP_REACH/MP_UNREACH is kept (their NLRI are inside the field, which
/// then never repeats), so a withdrawal between two announcements does not displace it.
/// </summary>
/// <remarks>
/// Decoding is a function of the field, the session's codec, what the decoder knows of the session
/// (<see cref="DecodeContext"/>) and whether the UPDATE has IPv4 NLRI, so all of them are compared.
/// Under churn the decode was a sixth of what a reflector allocated per change
/// (bench/RESULTS-perf.md, nineteenth round). Safe for one session's concurrent callers (a lock).
/// </remarks>
internal sealed class AttributeMemo
{
    /// <summary>Fields longer than this are decoded each time (a big one repeats rarely, and is not kept).</summary>
    public const int MaxField = 1024;

    private readonly Lock _lock = new();
    // Grown to the longest field kept (most sessions' fields are tens of bytes): a configured
    // neighbour that never sends one costs nothing.
    private byte[] _field = [];
    private int _length = -1;
    private BgpCodec _codec;
    private DecodeContext _context;
    private bool _hasIpv4Nlri;
    private PathAttributes? _decoded;
    // The last set interned and what it was interned from (compared by reference).
    private PathAttributes? _internedFrom;
    private PathAttributes? _interned;
    private AttributeCache? _cache;

    /// <summary>The set <paramref name="field"/> decoded to last time, if it is the field kept and decoded alike.</summary>
    public bool TryGet(ReadOnlySpan<byte> field, in BgpCodec codec, in DecodeContext context, bool hasIpv4Nlri, [NotNullWhen(true)] out PathAttributes? decoded)
    {
        lock (_lock)
        {
            decoded = _decoded;
            if (decoded is null || field.Length != _length || hasIpv4Nlri != _hasIpv4Nlri
                || codec != _codec || context != _context || !field.SequenceEqual(_field.AsSpan(0, _length)))
                return false;
            Hits++;
            return true;
        }
    }

    /// <summary>Fields found kept so far (tests).</summary>
    public long Hits { get; private set; }

    /// <summary>Keeps <paramref name="field"/> and its clean decoding (the caller checked there was no action and no MP attribute).</summary>
    public void Keep(ReadOnlySpan<byte> field, in BgpCodec codec, in DecodeContext context, bool hasIpv4Nlri, PathAttributes decoded)
    {
        if (field.Length > MaxField)
            return;
        lock (_lock)
        {
            if (_field.Length < field.Length)
                _field = new byte[field.Length];
            field.CopyTo(_field);
            _length = field.Length;
            _codec = codec;
            _context = context;
            _hasIpv4Nlri = hasIpv4Nlri;
            _decoded = decoded;
        }
    }

    /// <summary>
    /// <paramref name="cache"/>'s set for <paramref name="attributes"/>: the one found last time when
    /// it is the same object again (a kept decoding whose next hop needed no resolving), else interned.
    /// Held here, the set stays the cache's while the session keeps sending it.
    /// </summary>
    public PathAttributes Intern(PathAttributes attributes, AttributeCache cache)
    {
        lock (_lock)
        {
            if (ReferenceEquals(attributes, _internedFrom) && ReferenceEquals(cache, _cache))
                return _interned!;
        }
        var interned = cache.Intern(attributes);
        lock (_lock)
        {
            _internedFrom = attributes;
            _interned = interned;
            _cache = cache;
        }
        return interned;
    }

    /// <summary>Forgets what it kept (a session's end).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _length = -1;
            _decoded = _internedFrom = _interned = null;
            _cache = null;
        }
    }
}
