namespace Calico.Bgp.Config;

/// <summary>Options of <c>protocol bgp</c> (BIRD 1.6's <c>proto/bgp/config.Y</c>), in any order.</summary>
internal sealed partial class Parser
{
    private BgpProtocolConfig? ParseBgpOption(BgpProtocolConfig b)
    {
        var t = Peek();
        if (t.Kind != TokenKind.Identifier)
            return null;
        switch (t.Text)
        {
            case "local":
                Next();
                if (Peek().Kind is TokenKind.Ip4 or TokenKind.Ip6)
                    b = b with { LocalAddress = ExpectAddress("a local address") };
                ExpectWord("as");
                b = b with { LocalAs = (uint)ExpectNumber("an AS number", 1) };
                break;
            case "neighbor":
                Next();
                b = ParseNeighbor(b);
                break;
            case "source":
                Next();
                ExpectWord("address");
                b = b with { SourceAddress = ExpectAddress("a source address") };
                break;
            case "multihop":
                Next();
                b = Peek().Kind == TokenKind.Number
                    ? b with { Multihop = true, MultihopTtl = (int)ExpectNumber("a TTL", 1, 255), Direct = false }
                    : b with { Multihop = true, MultihopTtl = null, Direct = false };
                break;
            case "direct":
                Next();
                b = b with { Multihop = false, MultihopTtl = null, Direct = true };
                break;
            case "ttl":
                Next();
                ExpectWord("security");
                b = b with { TtlSecurity = ParseBoolOption() };
                break;
            case "passive":
                Next();
                b = b with { Passive = ParseBoolOption() };
                break;
            case "password":
                Next();
                b = b with { Password = ExpectString("a quoted password") };
                break;
            case "rr":
                Next();
                if (AcceptWord("client"))
                {
                    b = b with { RrClient = true };
                }
                else
                {
                    ExpectWord("cluster");
                    ExpectWord("id");
                    b = b with { RrClusterId = ExpectQuad("a cluster id (IPv4-style address or number)") };
                }
                break;
            case "next":
                Next();
                ExpectWord("hop");
                if (AcceptWord("self"))
                    b = b with { NextHopSelf = true };
                else if (AcceptWord("keep"))
                    b = b with { NextHopKeep = true };
                else
                    throw Expected("'self' or 'keep'");
                break;
            case "gateway":
                Next();
                if (AcceptWord("direct"))
                    b = b with { Gateway = GatewayMode.Direct };
                else if (AcceptWord("recursive"))
                    b = b with { Gateway = GatewayMode.Recursive };
                else
                    throw Expected("'direct' or 'recursive'");
                break;
            case "add":
                Next();
                ExpectWord("paths");
                if (AcceptWord("rx"))
                    b = b with { AddPaths = AddPathMode.Rx };
                else if (AcceptWord("tx"))
                    b = b with { AddPaths = AddPathMode.Tx };
                else
                    b = b with { AddPaths = ParseBoolOption() ? AddPathMode.Both : AddPathMode.None };
                break;
            case "graceful":
                Next();
                ExpectWord("restart");
                if (AcceptWord("time"))
                    b = b with { GracefulRestartTime = (int)ExpectNumber("a restart time in seconds", 0, 4095) };
                else
                    b = b with { GracefulRestart = ParseBoolOption() };
                break;
            case "connect":
                Next();
                if (AcceptWord("delay"))
                {
                    ExpectWord("time");
                    b = b with { ConnectDelayTime = (int)ExpectNumber("a time in seconds", 0, int.MaxValue) };
                }
                else
                {
                    ExpectWord("retry");
                    ExpectWord("time");
                    b = b with { ConnectRetryTime = (int)ExpectNumber("a time in seconds", 1, int.MaxValue) };
                }
                break;
            case "error":
                Next();
                ExpectWord("wait");
                ExpectWord("time");
                var min = (int)ExpectNumber("a minimum wait time in seconds", 0, int.MaxValue);
                ExpectPunct(",");
                var max = (int)ExpectNumber("a maximum wait time in seconds", 0, int.MaxValue);
                if (max < min)
                    throw Error(t, "error wait time: the maximum must not be lower than the minimum");
                b = b with { ErrorWaitMin = min, ErrorWaitMax = max };
                break;
            case "keepalive":
                Next();
                ExpectWord("time");
                b = b with { KeepaliveTime = (int)ExpectNumber("a keepalive time in seconds", 1, 65535) };
                break;
            case "hold":
                Next();
                ExpectWord("time");
                b = b with { HoldTime = (int)ExpectNumber("a hold time in seconds", 3, 65535) };
                break;
            case "send":
                // BIRD 2.14's RFC 9687 send hold timer; 0 turns it off.
                Next();
                ExpectWord("hold");
                ExpectWord("time");
                b = b with { SendHoldTime = (int)ExpectNumber("a send hold time in seconds", 0, 65535) };
                break;
            case "startup":
                Next();
                ExpectWord("hold");
                ExpectWord("time");
                b = b with { StartupHoldTime = (int)ExpectNumber("a hold time in seconds", 3, 65535) };
                break;
            case "allow":
                Next();
                ExpectWord("local");
                ExpectWord("as");
                // A bare "allow local as" means any number of occurrences.
                b = b with { AllowLocalAs = Peek().Kind == TokenKind.Number ? (int)ExpectNumber("a count", 0, int.MaxValue) : int.MaxValue };
                break;
            default:
                return null;
        }
        EndStatement();
        return b;
    }

    /// <summary><c>neighbor [IP] [port N] [as N]</c>, taken into one copy of the record.</summary>
    private BgpProtocolConfig ParseNeighbor(BgpProtocolConfig b)
    {
        var address = b.NeighborAddress;
        var port = b.NeighborPort;
        var asn = b.NeighborAs;
        var any = false;
        if (Peek().Kind is TokenKind.Ip4 or TokenKind.Ip6)
        {
            address = ExpectAddress("a neighbor address");
            any = true;
        }
        if (AcceptWord("port"))
        {
            port = (int)ExpectNumber("a port number", 1, 65535);
            any = true;
        }
        if (AcceptWord("as"))
        {
            asn = (uint)ExpectNumber("an AS number", 1);
            any = true;
        }
        if (!any)
            throw Expected("a neighbor address, 'port' or 'as'");
        return b with { NeighborAddress = address, NeighborPort = port, NeighborAs = asn };
    }
}
