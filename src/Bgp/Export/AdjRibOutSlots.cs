using System.Runtime.CompilerServices;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// A slot of one family's Adj-RIB-Out array: the prefix inline and, for a prefix with one path whose
/// path id of ours is 0 (every prefix of a group without ADD-PATH) or 1 (the first an ADD-PATH group
/// gives), the path as numbers: the source's number and the sent attribute set's number
/// (<see cref="RefIndex{T}"/>), our id as one bit, and the source's path id.
/// Anything else is an overflow slot whose <see cref="Payload"/> numbers an array of paths. No
/// references: the GC never looks inside the array.
/// </summary>
internal interface IOutSlot<TSelf> where TSelf : unmanaged, IOutSlot<TSelf>
{
    bool IsUsed { get; }
    bool IsOverflow { get; }
    Prefix Prefix { get; }

    /// <summary>Whether the slot holds <paramref name="prefix"/> (of the slot's family).</summary>
    bool Holds(in Prefix prefix);

    /// <summary>The source's number (inline slots).</summary>
    uint Source { get; }

    /// <summary>The attribute set's number (inline slots) or the overflow entry's (overflow slots).</summary>
    uint Payload { get; }

    uint SourcePathId { get; }

    /// <summary>Our path id (inline slots: 0 or 1).</summary>
    uint Id { get; }

    /// <summary>An inline slot, when the numbers fit.</summary>
    static abstract bool TryInline(in Prefix prefix, uint source, uint attributes, uint sourcePathId, uint id, out TSelf slot);

    static abstract TSelf Overflow(in Prefix prefix, uint entry);
}

// The getters that are more than a field's read are inlined by request: the AOT compiler, without a
// call site to weigh, left them calls, each copying the 16-byte slot to the stack to ask it one thing
// (bench/RESULTS-perf.md, twenty-first round).

/// <summary>
/// 16 bytes: the key word holds the address (bits 0–31), the length (32–37), used (38), overflow (39),
/// the source's number (40–62) and our path id (63); then the attributes' number and the source's path id.
/// </summary>
internal struct V4Slot : IOutSlot<V4Slot>
{
    private const int LengthShift = 32;
    private const ulong UsedBit = 1UL << 38;
    private const ulong OverflowBit = 1UL << 39;
    private const int SourceShift = 40;
    private const int IdShift = 63;
    private const ulong KeyMask = UsedBit | (0x3FUL << LengthShift) | 0xFFFF_FFFFUL;
    private const uint MaxSource = (1u << 23) - 1;

    private ulong _key;
    private uint _payload;
    private uint _sourcePathId;

    public readonly bool IsUsed { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (_key & UsedBit) != 0; }
    public readonly bool IsOverflow { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (_key & OverflowBit) != 0; }
    public readonly Prefix Prefix { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Prefix.FromV4((uint)_key, (int)(_key >> LengthShift) & 0x3F); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool Holds(in Prefix prefix) => (_key & KeyMask) == KeyOf(prefix);
    public readonly uint Source { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (uint)(_key >> SourceShift) & MaxSource; }
    public readonly uint Payload => _payload;
    public readonly uint SourcePathId => _sourcePathId;
    public readonly uint Id => (uint)(_key >> IdShift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong KeyOf(in Prefix prefix) => (uint)prefix.Lo | (ulong)prefix.Length << LengthShift | UsedBit;

    public static bool TryInline(in Prefix prefix, uint source, uint attributes, uint sourcePathId, uint id, out V4Slot slot)
    {
        slot = default;
        if (source > MaxSource || id > 1)
            return false;
        slot._key = KeyOf(prefix) | (ulong)source << SourceShift | (ulong)id << IdShift;
        slot._payload = attributes;
        slot._sourcePathId = sourcePathId;
        return true;
    }

    public static V4Slot Overflow(in Prefix prefix, uint entry) => new() { _key = KeyOf(prefix) | OverflowBit, _payload = entry };
}

/// <summary>
/// 24 bytes: the address's two words, then a word with the length (bits 0–7), used (8), overflow (9),
/// the source's number (10–30) and our path id (31), and the attributes' number. No room for a source path id: a path
/// with one goes to the overflow form (IPv6 routes received with ADD-PATH).
/// </summary>
internal struct V6Slot : IOutSlot<V6Slot>
{
    private const uint UsedBit = 1u << 8;
    private const uint OverflowBit = 1u << 9;
    private const int SourceShift = 10;
    private const int IdShift = 31;
    private const uint KeyMask = UsedBit | 0xFF;
    private const uint MaxSource = (1u << 21) - 1;

    private ulong _hi;
    private ulong _lo;
    private uint _meta;
    private uint _payload;

    public readonly bool IsUsed { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (_meta & UsedBit) != 0; }
    public readonly bool IsOverflow { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (_meta & OverflowBit) != 0; }
    public readonly Prefix Prefix { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Prefix.FromV6(_hi, _lo, (int)(_meta & 0xFF)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool Holds(in Prefix prefix) => _lo == prefix.Lo && _hi == prefix.Hi && (_meta & KeyMask) == (prefix.Length | UsedBit);
    public readonly uint Source { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (_meta >> SourceShift) & MaxSource; }
    public readonly uint Payload => _payload;
    public readonly uint SourcePathId => 0;
    public readonly uint Id => _meta >> IdShift;

    public static bool TryInline(in Prefix prefix, uint source, uint attributes, uint sourcePathId, uint id, out V6Slot slot)
    {
        slot = default;
        if (source > MaxSource || sourcePathId != 0 || id > 1)
            return false;
        slot = new V6Slot { _hi = prefix.Hi, _lo = prefix.Lo, _meta = prefix.Length | UsedBit | source << SourceShift | id << IdShift, _payload = attributes };
        return true;
    }

    public static V6Slot Overflow(in Prefix prefix, uint entry) =>
        new() { _hi = prefix.Hi, _lo = prefix.Lo, _meta = prefix.Length | UsedBit | OverflowBit, _payload = entry };
}
