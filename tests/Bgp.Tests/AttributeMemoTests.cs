using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// A session's last attribute field is not decoded again (<see cref="AttributeMemo"/>): alone, and in a
/// session against a scripted neighbour over loopback 127.0.9.x.
/// </summary>
public class AttributeMemoTests
{
    private static readonly BgpCodec Codec = new(true, false, AddPathMode.None, AddPathMode.None);
    private static readonly DecodeContext Context = new(false, IpAddr.Parse("127.0.9.1"));
    private const uint PeerAs = 64513;

    private static byte[] Field(PathAttributes attributes) => AttributeEncoder.Encode(attributes, Codec, true);

    private static readonly PathAttributes Base = new() { Origin = BgpOrigin.Igp, AsPath = AsPath.FromSequence(PeerAs), NextHop = IpAddr.Parse("127.0.9.1") };

    [Fact]
    public void The_field_kept_is_found_only_when_decoded_alike()
    {
        var memo = new AttributeMemo();
        var field = Field(Base);
        Assert.False(memo.TryGet(field, Codec, Context, true, out _));
        var decoded = AttributeDecoder.Decode(field, Codec, Context, true).Attributes;
        memo.Keep(field, Codec, Context, true, decoded);

        Assert.True(memo.TryGet(field.ToArray(), Codec, Context, true, out var found));
        Assert.Same(decoded, found);

        // Anything the decoding depends on differs: not found.
        var changed = field.ToArray();
        changed[^1] ^= 1;
        Assert.False(memo.TryGet(changed, Codec, Context, true, out _));
        Assert.False(memo.TryGet(field.AsSpan(0, field.Length - 1), Codec, Context, true, out _));
        Assert.False(memo.TryGet(Field(Base with { Med = 1 }), Codec, Context, true, out _));
        Assert.False(memo.TryGet(field, Codec with { FourOctetAs = false }, Context, true, out _));
        Assert.False(memo.TryGet(field, Codec, Context with { IsInternal = true }, true, out _));
        Assert.False(memo.TryGet(field, Codec, Context with { NeighborAddress = IpAddr.Parse("127.0.9.2") }, true, out _));
        Assert.False(memo.TryGet(field, Codec, Context, false, out _));

        // The newest field replaces the kept one; a session's end forgets it.
        var other = Field(Base with { Med = 7 });
        memo.Keep(other, Codec, Context, true, AttributeDecoder.Decode(other, Codec, Context, true).Attributes);
        Assert.False(memo.TryGet(field, Codec, Context, true, out _));
        Assert.True(memo.TryGet(other, Codec, Context, true, out var med));
        Assert.Equal(7u, med.Med);
        memo.Clear();
        Assert.False(memo.TryGet(other, Codec, Context, true, out _));
    }

    [Fact]
    public void A_field_over_the_limit_is_not_kept()
    {
        var memo = new AttributeMemo();
        var big = Field(Base with { Communities = [.. Enumerable.Range(0, 300).Select(i => new Community(64513, (ushort)i))] });
        Assert.True(big.Length > AttributeMemo.MaxField);
        memo.Keep(big, Codec, Context, true, AttributeDecoder.Decode(big, Codec, Context, true).Attributes);
        Assert.False(memo.TryGet(big, Codec, Context, true, out _));
    }

    [Fact]
    public void Interning_the_same_set_again_gives_the_cache_set_found_last_time()
    {
        var memo = new AttributeMemo();
        var cache = new AttributeCache();
        var canonical = cache.Intern(Base with { Med = 3 });
        var mine = Base with { Med = 3 };
        Assert.Same(canonical, memo.Intern(mine, cache));
        Assert.Same(canonical, memo.Intern(mine, cache));
        // An equal set that is another object, and another cache: each interned as it is.
        Assert.Same(canonical, memo.Intern(Base with { Med = 3 }, cache));
        var second = new AttributeCache();
        Assert.Same(mine, memo.Intern(mine, second));
        Assert.Same(mine, memo.Intern(mine, second));
        Assert.Same(canonical, memo.Intern(mine, cache));
    }

    [Fact]
    public async Task Updates_that_repeat_a_field_share_its_set_and_others_get_theirs()
    {
        var table = new RoutingTable();
        using var l = ScriptedPeer.Listen("127.0.9.1");
        var bgp = new BgpProtocol(LoopbackOptions.For("memo", "127.0.9.1", l), table, TimeProvider.System, NullLoggerFactory.Instance, null);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            await using var peer = await ScriptedPeer.AcceptAsync(l);
            await peer.HandshakeAsync(PeerAs, 0x0A0000F0, ScriptedPeer.Caps(asn: PeerAs));
            var plain = Field(Base);
            var tagged = Field(Base with { Communities = [new Community(64513, 9)] });
            // An UPDATE a prefix: the same field, another, the first again; then the first field
            // with a MULTI_EXIT_DISC of 3 bytes appended (never kept: treat-as-withdraw, RFC 7606 §7.4).
            await SendAsync(peer, plain, "10.91.1.0/24");
            await SendAsync(peer, plain, "10.91.2.0/24");
            await SendAsync(peer, tagged, "10.91.3.0/24");
            await SendAsync(peer, plain, "10.91.4.0/24");
            // Twice: a malformed field must never be remembered as a clean one.
            byte[] malformed = [.. plain, 0x80, 4, 3, 0, 0, 1];
            await SendAsync(peer, malformed, "10.91.1.0/24");
            await SendAsync(peer, malformed, "10.91.6.0/24");
            await Wait.UntilAsync(() => bgp.Stats.ImportUpdatesRejected == 2, TimeSpan.FromSeconds(20), "the malformed UPDATEs");

            PathAttributes? At(string p) => table.Find(Prefix.Parse(p))?.Best?.Attributes;
            Assert.Null(At("10.91.1.0/24"));
            Assert.Null(At("10.91.6.0/24"));
            Assert.NotNull(At("10.91.2.0/24"));
            Assert.Same(At("10.91.2.0/24"), At("10.91.4.0/24"));
            Assert.Equal(IpAddr.Parse("127.0.9.1"), At("10.91.2.0/24")!.NextHop);
            Assert.True(At("10.91.2.0/24")!.Communities.IsDefaultOrEmpty);
            Assert.Equal([new Community(64513, 9)], At("10.91.3.0/24")!.Communities.ToArray());

            // The first field once more after the malformed one: decoded or remembered, the same set.
            await SendAsync(peer, plain, "10.91.5.0/24");
            await Wait.UntilAsync(() => At("10.91.5.0/24") is not null, TimeSpan.FromSeconds(20), "10.91.5.0/24");
            Assert.Same(At("10.91.2.0/24"), At("10.91.5.0/24"));

            // Churn: announcements of one field with withdrawals between them (which carry no
            // attributes) find the field kept every time after the first.
            var hits = bgp.AttributeMemoHits;
            for (var i = 0; i < 5; i++)
            {
                await SendAsync(peer, plain, $"10.92.{i}.0/24");
                await peer.SendAsync(w => UpdateWriter.WriteWithdrawals(w, Codec, [new Nlri(Prefix.Parse($"10.92.{i}.0/24"))], false));
            }
            await SendAsync(peer, plain, "10.92.9.0/24");
            await Wait.UntilAsync(() => At("10.92.9.0/24") is not null, TimeSpan.FromSeconds(20), "10.92.9.0/24");
            Assert.Equal(hits + 6, bgp.AttributeMemoHits);
            Assert.Null(At("10.92.4.0/24"));
            Assert.Same(At("10.91.2.0/24"), At("10.92.9.0/24"));
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }

    private static Task SendAsync(ScriptedPeer peer, byte[] field, string prefix) =>
        peer.SendAsync(w => UpdateWriter.WriteAnnouncements(w, Codec, field, [new Nlri(Prefix.Parse(prefix))], false));
}
