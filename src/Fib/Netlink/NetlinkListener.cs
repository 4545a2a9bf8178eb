namespace Calico.Bgp.Fib.Netlink;

/// <summary>
/// A socket joined to rtnetlink multicast groups (RTNLGRP_*): each receive is one datagram of
/// notifications. When the kernel had to drop notifications because the receive buffer was full,
/// a receive fails with <see cref="NetlinkException"/> carrying ENOBUFS, and only a full re-read
/// of the state is trustworthy again.
/// </summary>
public interface INetlinkListener : IDisposable
{
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}
