using System.Buffers.Binary;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>
/// The kernel's answer to one request: errno 0 is an ACK; otherwise the errno (positive) and, with
/// NETLINK_EXT_ACK, the kernel's own explanation ("Nexthop has invalid gateway").
/// </summary>
public readonly record struct NetlinkResult(int Errno, string? Message)
{
    public static readonly NetlinkResult Ok = new(0, null);

    public bool IsOk => Errno == 0;

    /// <summary>
    /// Parses struct nlmsgerr (int error; struct nlmsghdr msg; [payload]; [TLVs]) from an NLMSG_ERROR
    /// payload, include/uapi/linux/netlink.h. The request's sequence number is in <c>msg</c>.
    /// </summary>
    public static NetlinkResult Parse(in NetlinkMessage message)
    {
        var p = message.Payload;
        if (p.Length < 4)
            return new NetlinkResult(Netlink.Errno.Einval, "truncated NLMSG_ERROR");
        var errno = -BinaryPrimitives.ReadInt32LittleEndian(p);
        string? text = null;
        if ((message.Flags & Nl.FAckTlvs) != 0 && p.Length >= 4 + Nl.HeaderLength)
        {
            // Without NLM_F_CAPPED the original request follows in full; skip it by its own length.
            // That length is read as unsigned and bounded by what is there: a value past the end
            // (or negative as an int) would slice outside the payload, so then there are no TLVs.
            var offset = 4 + Nl.HeaderLength;
            if ((message.Flags & Nl.FCapped) == 0)
            {
                var echoed = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
                offset = echoed >= Nl.HeaderLength && echoed <= (uint)(p.Length - 4) ? 4 + Nl.Align((int)echoed) : p.Length;
            }
            if (offset < p.Length)
            {
                var attrs = new NetlinkAttributeReader(p[offset..]);
                while (attrs.MoveNext())
                {
                    if (attrs.Type == Nl.ErrAttrMsg)
                        text = NetlinkAttributeReader.String(attrs.Value);
                }
            }
        }
        return errno == 0 ? Ok : new NetlinkResult(errno, text);
    }

    public override string ToString() =>
        IsOk ? "ok" : Message is null ? $"{Netlink.Errno.Describe(Errno)} (errno {Errno})" : $"{Netlink.Errno.Describe(Errno)} (errno {Errno}): {Message}";
}

/// <summary>A netlink request failed as a whole (a dump, or the socket itself).</summary>
public sealed class NetlinkException(int errno, string message) : IOException(message)
{
    public int Errno { get; } = errno;
}
