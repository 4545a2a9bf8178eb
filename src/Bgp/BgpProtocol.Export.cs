using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker;

public sealed partial class BgpProtocol
{
    private IpAddr? _localAddress;
    private UpdateGroupMember? _member;

    /// <summary>The update group this session sends through while Established (null otherwise).</summary>
    public UpdateGroupMember? UpdateGroupMember => _member;

    /// <summary>The session is gone, and what it was sent with it; what it imported is the import side's business.</summary>
    private void ClearAdjRibOut() => Stats.AddExported(-Stats.Exported);

    /// <summary>Route refresh (RFC 2918 §4) or <c>reload out</c>: send everything again.</summary>
    private void RequestRefeed() => _member?.RequestFull();

    /// <summary>
    /// Sends what the update group encodes for this peer: the initial feed and End-of-RIB
    /// (RFC 4724 §2), then changes as they come. The group (shared with every peer of the same
    /// export policy, see <see cref="UpdateGroupKey"/>) owns the Adj-RIB-Out; this loop only writes
    /// its bytes at the pace of this peer's socket.
    /// </summary>
    private async Task ExportLoopAsync(Link link, CancellationToken ct)
    {
        UpdateGroupMember member;
        // Under the export lock, so a reload changing the export filter sees either no member yet
        // (and this join uses the new filter) or this one (and moves it).
        lock (_exportLock)
        {
            UpdateGroupKey key;
            lock (_sync)
                key = UpdateGroupKey.For(Table, Options, link.Fsm.Codec, _localAddress);
            member = _groups.Join(this, key);
            _member = member;
        }
        try
        {
            var chunks = new List<ReadOnlyMemory<byte>>();
            while (!ct.IsCancellationRequested)
            {
                await member.TakeAsync(chunks, ct).ConfigureAwait(false);
                if (chunks.Count > 0)
                {
                    // RFC 4271 §4.4: the keepalive timer restarts with every UPDATE sent. Restarted as
                    // the UPDATEs are handed to the socket rather than once written, so the restart
                    // is never later than the peer's receipt of them (a clock that reaches the next
                    // deadline meanwhile does not push that deadline out by a whole interval).
                    lock (_sync)
                        link.Fsm.MessageSent();
                    await link.Connection.SendAsync(chunks, ct).ConfigureAwait(false);
                    UpdateGroupMember.Recycle(chunks);
                }
                // Moved to another group by a reload: what the old one queued went first.
                while (member.Successor is { } next)
                    member = next;
            }
        }
        finally
        {
            UpdateGroupMember? current;
            lock (_exportLock)
            {
                current = _member;
                _member = null;
            }
            _groups.Leave(member);
            if (current is not null && !ReferenceEquals(current, member))
                _groups.Leave(current);
        }
    }
}
