using Calico.Bgp.Rib;

namespace Calico.Bgp.Config;

/// <summary>
/// Recursive-descent parser for one file (BIRD's <c>conf/confbase.Y</c> and the protocol grammars).
/// Includes are parsed by a nested parser sharing the <see cref="ParseContext"/>. The partial
/// files hold protocol options and the filter language.
/// </summary>
internal sealed partial class Parser
{
    private readonly List<Token> _tokens;
    private readonly ParseContext _ctx;
    private readonly string _file;
    private int _pos;

    public Parser(List<Token> tokens, ParseContext ctx, string file)
    {
        _tokens = tokens;
        _ctx = ctx;
        _file = file;
    }

    private Token Peek(int ahead = 0) => _tokens[Math.Min(_pos + ahead, _tokens.Count - 1)];

    private Token Next()
    {
        var t = Peek();
        if (t.Kind != TokenKind.End)
            _pos++;
        return t;
    }

    private bool AcceptPunct(string p)
    {
        if (!Peek().IsPunct(p))
            return false;
        _pos++;
        return true;
    }

    private bool AcceptWord(string w)
    {
        if (!Peek().IsWord(w))
            return false;
        _pos++;
        return true;
    }

    private static ConfigException Error(Token at, string message) => new(at.Location, message);

    private ConfigException Expected(string what) => Error(Peek(), $"expected {what}, found {Peek().Describe()}");

    private Token ExpectPunct(string p)
    {
        if (!Peek().IsPunct(p))
            throw Expected($"'{p}'");
        return Next();
    }

    private Token ExpectWord(string w)
    {
        if (!Peek().IsWord(w))
            throw Expected($"'{w}'");
        return Next();
    }

    private Token ExpectSymbol(string what)
    {
        if (!Peek().IsSymbol)
            throw Expected(what);
        return Next();
    }

    private long ExpectNumber(string what, long min = 0, long max = uint.MaxValue)
    {
        if (Peek().Kind != TokenKind.Number)
            throw Expected(what);
        var t = Next();
        if (t.Number < min || t.Number > max)
            throw Error(t, $"{what} {t.Number} is out of range ({min}..{max})");
        return t.Number;
    }

    private string ExpectString(string what)
    {
        if (Peek().Kind != TokenKind.String)
            throw Expected(what);
        return Next().Text;
    }

    /// <summary>An address of the daemon's family (IPv6 for bird6, either when dual-stack).</summary>
    private IpAddr ExpectAddress(string what)
    {
        var t = Peek();
        if (t.Kind == TokenKind.Ip6 && (_ctx.Ipv6 || _ctx.DualStack) || t.Kind == TokenKind.Ip4 && !_ctx.Ipv6)
            return Next().Ip;
        if (t.Kind is TokenKind.Ip4 or TokenKind.Ip6)
            throw Error(t, $"expected {what} (an {(_ctx.Ipv6 ? "IPv6" : "IPv4")} address), found {(t.Kind == TokenKind.Ip4 ? "IPv4" : "IPv6")} address '{t.Text}'");
        throw Expected(what);
    }

    /// <summary>A router id / cluster id: a dotted quad or a number, in either daemon.</summary>
    private uint ExpectQuad(string what)
    {
        var t = Peek();
        if (t.Kind == TokenKind.Ip4)
            return Next().Ip.V4;
        if (t.Kind == TokenKind.Number)
            return (uint)Next().Number;
        throw Expected(what);
    }

    private Prefix ExpectPrefix(string what)
    {
        var start = Peek();
        var address = ExpectAddress(what);
        if (!Peek().IsPunct("/"))
            throw Expected($"'/' and a prefix length after '{start.Text}'");
        Next();
        var length = ExpectNumber("prefix length", 0, address.BitLength);
        if (Prefix.HasHostBits(address, (int)length))
            throw Error(start, $"invalid prefix {start.Text}/{length}: host bits are set");
        return new Prefix(address, (int)length);
    }

    /// <summary>BIRD's <c>bool</c> option value: empty, on/off, yes/no, true/false.</summary>
    private bool ParseBoolOption()
    {
        var t = Peek();
        if (t.IsPunct(";"))
            return true;
        if (t.Kind == TokenKind.Identifier)
        {
            switch (t.Text)
            {
                case "on" or "yes" or "true":
                    Next();
                    return true;
                case "off" or "no" or "false":
                    Next();
                    return false;
            }
        }
        if (t.Kind == TokenKind.Number)
            return Next().Number != 0;
        throw Expected("on, off, yes, no or ';'");
    }

    private void EndStatement() => ExpectPunct(";");

    public void ParseFile()
    {
        while (Peek().Kind != TokenKind.End)
            ParseTopLevel();
    }

    private void ParseTopLevel()
    {
        var t = Peek();
        if (t.IsPunct(";"))
        {
            Next();
            return;
        }
        if (t.Kind != TokenKind.Identifier)
            throw Expected("a top-level statement (router id, listen bgp, include, function, filter, template or protocol)");
        switch (t.Text)
        {
            case "router":
                Next();
                ExpectWord("id");
                _ctx.RouterId = ExpectQuad("a router id (IPv4-style address or number)");
                EndStatement();
                return;
            case "listen":
                ParseListen();
                return;
            case "include":
                ParseInclude();
                return;
            case "function":
                ParseFunction();
                return;
            case "filter":
                ParseNamedFilter();
                return;
            case "template":
                ParseProtocol(template: true);
                return;
            case "protocol":
                ParseProtocol(template: false);
                return;
            default:
                throw Expected("a top-level statement (router id, listen bgp, include, function, filter, template or protocol)");
        }
    }

    private void ParseListen()
    {
        Next();
        ExpectWord("bgp");
        IpAddr? address = null;
        var port = 179;
        while (!Peek().IsPunct(";"))
        {
            if (AcceptWord("address"))
                address = ExpectAddress("a listen address");
            else if (AcceptWord("port"))
                port = (int)ExpectNumber("a port number", 1, 65535);
            else if (!AcceptWord("v6only") && !AcceptWord("dual"))
                throw Expected("'address', 'port', 'v6only', 'dual' or ';'");
        }
        EndStatement();
        _ctx.ListenBgp = new ListenBgpConfig(address, port);
    }

    private void ParseInclude()
    {
        Next();
        if (Peek().Kind != TokenKind.String)
            throw Expected("a quoted file name after 'include'");
        var nameToken = Next();
        EndStatement();
        var dir = Path.GetDirectoryName(_file);
        var path = Path.IsPathRooted(nameToken.Text) || string.IsNullOrEmpty(dir) ? nameToken.Text : Path.Combine(dir, nameToken.Text);
        ConfigLoader.ParseFileInto(path, _ctx, nameToken.Location);
    }
}
