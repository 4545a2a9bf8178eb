using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Export;

/// <summary>Moving a member between groups when its export filter changes, without a session reset.</summary>
public sealed partial class UpdateGroup
{
    /// <summary>The paths this group has sent (or queued) to <paramref name="member"/>, plus those it fell behind on. Under <see cref="Sync"/>.</summary>
    internal HashSet<Nlri> PathsHeldBy(UpdateGroupMember member)
    {
        var held = new HashSet<Nlri>();
        var one = default(PathOut);
        for (var i = 0; i < _out.Capacity; i++)
        {
            if (!_out.IsUsed(i))
                continue;
            var prefix = _out.PrefixAt(i);
            foreach (var p in _out.PathsAt(i, ref one))
            {
                if (!ReferenceEquals(p.Source, member.Protocol))
                    held.Add(new Nlri(prefix, Codec.SendsPathId(prefix.IsV6) ? p.Id : 0));
            }
        }
        // Changed while the member was behind: it may still have an older version of these.
        if (member.Dirty is { } dirty)
            held.UnionWith(dirty);
        return held;
    }

    /// <summary>Whether the group's Adj-RIB-Out has path <paramref name="n"/> for <paramref name="member"/>. Under <see cref="Sync"/>.</summary>
    private bool Holds(Protocol member, Nlri n)
    {
        var one = default(PathOut);
        var addPath = Codec.SendsPathId(n.Prefix.IsV6);
        foreach (var p in _out.PathsAt(Find(n.Prefix), ref one))
        {
            if (!ReferenceEquals(p.Source, member) && (!addPath || p.Id == n.PathId))
                return true;
        }
        return false;
    }
}
