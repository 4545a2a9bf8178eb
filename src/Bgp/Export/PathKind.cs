using System.Runtime.CompilerServices;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// What an inline Adj-RIB-Out slot numbers (<see cref="RefIndex{T}"/>): the source protocol, its path
/// id and the attribute set sent. Compared by reference, as the table interns sets: a group's
/// prefixes share a few of these (one per peer and set in a mesh or a reflector, one in all for a
/// peer's whole table), so one number in the slot stands for all three.
/// </summary>
internal readonly struct PathKind(Protocol source, uint sourcePathId, PathAttributes attributes) : IEquatable<PathKind>
{
    public Protocol Source { get; } = source;
    public uint SourcePathId { get; } = sourcePathId;
    public PathAttributes Attributes { get; } = attributes;

    public bool Equals(PathKind other) =>
        ReferenceEquals(Source, other.Source) && ReferenceEquals(Attributes, other.Attributes) && SourcePathId == other.SourcePathId;

    public override bool Equals(object? obj) => obj is PathKind k && Equals(k);

    public override int GetHashCode() =>
        HashCode.Combine(RuntimeHelpers.GetHashCode(Source), RuntimeHelpers.GetHashCode(Attributes), SourcePathId);
}
