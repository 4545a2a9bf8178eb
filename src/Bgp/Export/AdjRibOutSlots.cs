using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// A slot of one family's Adj-RIB-Out array: the prefix inline and, for a prefix with one path whose
/// path id of ours is 0 (every prefix of a group without ADD-PATH) or 1 (the first an ADD-PATH group
/// gives), the path as one number (<see cref="PathKind"/> in a <see cref="RefIndex{T}"/>: the source,
/// its path id and the attribute set sent) and our id as one bit. Anything else is an overflow slot
/// whose <see cref="Payload"/> numbers an array of paths. No references: the GC never looks inside the array.
/// </summary>
internal interface IOutSlot<TSelf> where TSelf : unmanaged, IOutSlot<TSelf>
{
    bool IsUsed { get; }
    bool IsOverflow { get; }
    Prefix Prefix { get; }

    /// <summary>Whether the slot holds <paramref name="prefix"/> (of the slot's family).</summary>
    bool Holds(in Prefix prefix);

    /// <summary>The path's number (inline slots) or the overflow entry's (overflow slots).</summary>
    uint Payload { get; }

    /// <summary>Our path id (inline slots: 0 or 1).</summary>
    uint Id { get; }

    /// <summary>An inline slot, when the numbers fit.</summary>
    static abstract bool TryInline(in Prefix prefix, uint kind, uint id, out TSelf slot);

    /// <summary>An overflow slot; <paramref name="entry"/> is at most <see cref="AdjRibOut.MaxOverflowEntry"/>.</summary>
    static abstract TSelf Overflow(in Prefix prefix, uint entry);
}

// The getters that are more than a field's read are inlined by request: the AOT compiler, without a
// call site to weigh, left them calls, each copying the slot to the stack to ask it one thing
// (bench/RESULTS-perf.md, twenty-first round).

/// <summary>
/// 8 bytes, one word: the address (bits 0–31), the length (32–37), used (38), overflow (39), the
/// path's or the overflow entry's number (40–62) and our path id (63). A million IPv4 prefixes take
/// 8 MB; with the source, the set and the source's path id numbered apart they took 16.
/// </summary>
internal struct V4Slot : IOutSlot<V4Slot>
{
    private const int LengthShift = 32;
    private const ulong UsedBit = 1UL << 38;
    private const ulong OverflowBit = 1UL << 39;
    private const int PayloadShift = 40;
    private const int IdShift = 63;
    private const ulong KeyMask = UsedBit | (0x3FUL << LengthShift) | 0xFFFF_FFFFUL;
    internal const uint MaxPayload = (1u << 23) - 1;

    private ulong _key;

    public readonly bool IsUsed { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (_key & UsedBit) != 0; }
    public readonly bool IsOverflow { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (_key & OverflowBit) != 0; }
    public readonly Prefix Prefix { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Prefix.FromV4((uint)_key, (int)(_key >> LengthShift) & 0x3F); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool Holds(in Prefix prefix) => (_key & KeyMask) == KeyOf(prefix);
    public readonly uint Payload { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (uint)(_key >> PayloadShift) & MaxPayload; }
    public readonly uint Id => (uint)(_key >> IdShift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong KeyOf(in Prefix prefix) => (uint)prefix.Lo | (ulong)prefix.Length << LengthShift | UsedBit;

    public static bool TryInline(in Prefix prefix, uint kind, uint id, out V4Slot slot)
    {
        slot = default;
        if (kind > MaxPayload || id > 1)
            return false;
        slot._key = KeyOf(prefix) | (ulong)kind << PayloadShift | (ulong)id << IdShift;
        return true;
    }

    public static V4Slot Overflow(in Prefix prefix, uint entry) =>
        entry <= MaxPayload ? new() { _key = KeyOf(prefix) | OverflowBit | (ulong)entry << PayloadShift } : throw new ArgumentOutOfRangeException(nameof(entry));
}

/// <summary>
/// 20 bytes (packed to 4, so a page holds no padding): the address's two words, then a word with the
/// length (bits 0–7), used (8), overflow (9), our path id (10) and the path's or the overflow entry's
/// number (11–31).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct V6Slot : IOutSlot<V6Slot>
{
    private const uint UsedBit = 1u << 8;
    private const uint OverflowBit = 1u << 9;
    private const int IdShift = 10;
    private const int PayloadShift = 11;
    private const uint KeyMask = UsedBit | 0xFF;
    internal const uint MaxPayload = (1u << 21) - 1;

    private ulong _hi;
    private ulong _lo;
    private uint _meta;

    public readonly bool IsUsed { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (_meta & UsedBit) != 0; }
    public readonly bool IsOverflow { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (_meta & OverflowBit) != 0; }
    public readonly Prefix Prefix { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Prefix.FromV6(_hi, _lo, (int)(_meta & 0xFF)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool Holds(in Prefix prefix) => _lo == prefix.Lo && _hi == prefix.Hi && (_meta & KeyMask) == (prefix.Length | UsedBit);
    public readonly uint Payload { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => _meta >> PayloadShift; }
    public readonly uint Id => (_meta >> IdShift) & 1;

    public static bool TryInline(in Prefix prefix, uint kind, uint id, out V6Slot slot)
    {
        slot = default;
        if (kind > MaxPayload || id > 1)
            return false;
        slot = new V6Slot { _hi = prefix.Hi, _lo = prefix.Lo, _meta = prefix.Length | UsedBit | id << IdShift | kind << PayloadShift };
        return true;
    }

    public static V6Slot Overflow(in Prefix prefix, uint entry) =>
        entry <= MaxPayload
            ? new() { _hi = prefix.Hi, _lo = prefix.Lo, _meta = prefix.Length | UsedBit | OverflowBit | entry << PayloadShift }
            : throw new ArgumentOutOfRangeException(nameof(entry));
}
