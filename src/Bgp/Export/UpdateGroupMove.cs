namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// Moves a peer to the group of its new export policy while its session stays up: the old group's
/// Adj-RIB-Out tells what the peer holds, the new group's first feed to it withdraws what it no
/// longer gets and announces the rest (an announcement replaces the old path, RFC 4271 §3.1).
/// </summary>
internal static class UpdateGroupMove
{
    public static UpdateGroupMember Move(this UpdateGroupRegistry registry, UpdateGroupMember member, UpdateGroupKey key)
    {
        var old = member.Group;
        if (old.Key.Equals(key))
            return member;
        // Join first: the new member waits for its full feed (NeedsFull) and takes nothing meanwhile.
        var next = registry.Join(member.Protocol, key);
        HashSet<Wire.Nlri> held;
        long reported;
        bool sentEndOfRib;
        lock (old.Sync)
        {
            held = old.PathsHeldBy(member);
            old.Remove(member);
            reported = member.ReportedExported;
            sentEndOfRib = member.SentEndOfRib;
        }
        // The old group stops counting for this peer; the new one counts from zero.
        member.Protocol.Stats.AddExported(-reported);
        lock (next.Group.Sync)
        {
            next.Inherited = held;
            if (sentEndOfRib)
            {
                // RFC 4724 §2: End-of-RIB goes once per session, and it went already.
                next.SentEndOfRib = true;
                next.EndOfRibQueued = true;
            }
        }
        lock (old.Sync)
            member.Successor = next;
        member.Signal();
        registry.Leave(member);
        return next;
    }
}
