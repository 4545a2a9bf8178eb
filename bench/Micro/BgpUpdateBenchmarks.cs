using System.Buffers;
using BenchmarkDotNet.Attributes;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// Parse and encode of UPDATEs packing 1M IPv4 /24 (or 1M IPv6 /48) prefixes in 4 KiB messages,
/// measured per message: <c>Parse</c> is framing, the UPDATE split, the attribute walk and the NLRI
/// enumeration (the hot path before the RIB); <c>Decode</c> adds building the attribute set (one
/// object per message, interned by the RIB); <c>Encode</c> packs the NLRI behind one pre-encoded
/// attribute block.
/// </summary>
[MemoryDiagnoser]
public class BgpUpdateBenchmarks
{
    private const int PrefixCount = 1_000_000;
    private readonly ArrayBufferWriter<byte> _out = new(8 << 20);
    private Nlri[] _nlri = [];
    private byte[] _attributes = [];
    private byte[] _stream = [];
    private int _messages;
    private int _next;
    private int[] _offsets = [];
    private int[] _firstNlri = [];
    private BgpCodec _codec;
    private IpAddr _nextHop;

    [Params(false, true)]
    public bool Ipv6 { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _codec = new BgpCodec(true, false, AddPathMode.None, AddPathMode.None);
        _nlri = new Nlri[PrefixCount];
        for (var i = 0; i < PrefixCount; i++)
        {
            // 10.0.0.0/24 upwards, or 2001:db8::/48 upwards (i in the third group and beyond).
            _nlri[i] = Ipv6
                ? new Nlri(new Prefix(IpAddr.FromV6(((UInt128)0x20010DB8_00000000UL << 64) + ((UInt128)(ulong)i << 80)), 48))
                : new Nlri(new Prefix(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24));
        }
        _nextHop = Ipv6 ? IpAddr.Parse("2001:db8:ffff::1") : IpAddr.Parse("10.255.0.1");
        var attrs = new PathAttributes
        {
            Source = RouteSource.Bgp,
            Dest = RouteDest.Router,
            Origin = BgpOrigin.Igp,
            AsPath = AsPath.Empty.Prepend(64512),
            NextHop = _nextHop,
            LocalPref = 100,
        };
        _attributes = AttributeEncoder.Encode(attrs, _codec, ipv4NextHop: !Ipv6);
        var w = new ArrayBufferWriter<byte>(64 << 20);
        _messages = UpdateWriter.WriteAnnouncements(w, _codec, _attributes, _nlri, Ipv6, _nextHop);
        _stream = w.WrittenSpan.ToArray();
        // Where each message starts, and which NLRI it holds (for encoding the same split again).
        _offsets = new int[_messages];
        _firstNlri = new int[_messages + 1];
        var o = 0;
        var n = 0;
        for (var m = 0; m < _messages; m++)
        {
            _offsets[m] = o;
            _firstNlri[m] = n;
            var len = (_stream[o + 16] << 8) | _stream[o + 17];
            var buffer = new ReadOnlySequence<byte>(_stream, o, len);
            FrameReader.TryRead(ref buffer, _codec.MaxMessageLength, out var frame, out _);
            UpdateMessage.TryParse(frame.Body.First.Span, out var update, out _);
            var field = update.Nlri;
            var r = new AttributeReader(update.Attributes);
            while (r.MoveNext())
            {
                if (r.Current.Type == (byte)AttributeType.MpReachNlri)
                    field = r.Current.Value[(5 + r.Current.Value[3])..];
            }
            foreach (var _ in new NlriReader(field, Ipv6, false))
                n++;
            o += len;
        }
        _firstNlri[_messages] = n;
        PrefixesPerMessage = (double)n / _messages;
        Console.WriteLine($"// {(Ipv6 ? "IPv6 /48" : "IPv4 /24")}: {n} prefixes in {_messages} messages, {PrefixesPerMessage:F1} per message, {_stream.Length} bytes");
    }

    /// <summary>Average prefixes in one 4 KiB message (prefixes/s = this / time per operation).</summary>
    public double PrefixesPerMessage { get; private set; }

    /// <summary>Messages the 1M prefixes take; each benchmark operation handles the next one.</summary>
    public int Messages => _messages;

    private int NextMessage()
    {
        var i = _next;
        _next = i + 1 == _messages ? 0 : i + 1;
        return i;
    }

    [Benchmark]
    public long Parse()
    {
        var buffer = new ReadOnlySequence<byte>(_stream.AsMemory(_offsets[NextMessage()]));
        long sum = 0;
        FrameReader.TryRead(ref buffer, _codec.MaxMessageLength, out var frame, out _);
        UpdateMessage.TryParse(frame.Body.First.Span, out var update, out _);
        var nlriField = update.Nlri;
        var attrs = new AttributeReader(update.Attributes);
        while (attrs.MoveNext())
        {
            var a = attrs.Current;
            sum += a.Type;
            if (a.Type == (byte)AttributeType.MpReachNlri)
                nlriField = a.Value[(5 + a.Value[3])..];
        }
        foreach (var n in new NlriReader(nlriField, Ipv6, false))
            sum += n.Prefix.Length;
        return sum;
    }

    [Benchmark]
    public long Decode()
    {
        var buffer = new ReadOnlySequence<byte>(_stream.AsMemory(_offsets[NextMessage()]));
        long sum = 0;
        FrameReader.TryRead(ref buffer, _codec.MaxMessageLength, out var frame, out _);
        UpdateMessage.TryParse(frame.Body.First.Span, out var update, out _);
        var d = AttributeDecoder.Decode(update.Attributes, _codec, new DecodeContext(true, _nextHop), !update.Nlri.IsEmpty);
        var field = d.HasMpReach ? d.MpReachNlri : update.Nlri;
        foreach (var n in new NlriReader(field, Ipv6, false))
            sum += n.Prefix.Length;
        return sum;
    }

    [Benchmark]
    public int Encode()
    {
        var i = NextMessage();
        _out.ResetWrittenCount();
        return UpdateWriter.WriteAnnouncements(_out, _codec, _attributes, _nlri.AsSpan(_firstNlri[i], _firstNlri[i + 1] - _firstNlri[i]), Ipv6, _nextHop);
    }
}
