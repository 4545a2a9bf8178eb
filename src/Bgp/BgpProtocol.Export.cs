using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Transport;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker;

public sealed partial class BgpProtocol
{
    // Adj-RIB-Out: what the neighbour has from us, per prefix (interned attributes, so reference
    // equality tells "unchanged"). Touched only by the session's export loop.
    private readonly Dictionary<Prefix, PathAttributes> _adjRibOut = [];
    private IpAddr? _localAddress;
    private TableSubscription? _subscription;

    private void ClearAdjRibOut()
    {
        _adjRibOut.Clear();
        Stats.ResetRouteCounts();
    }

    /// <summary>Route refresh (RFC 2918): send everything again.</summary>
    private void RequestRefeed()
    {
        var sub = _subscription;
        if (sub is null)
            return;
        lock (_sync)
            _adjRibOut.Clear();
        Table.Refeed(sub);
    }

    /// <summary>
    /// Exports table changes to the neighbour: initial feed, End-of-RIB (RFC 4724 §2), then
    /// changes as they come. Changes are grouped by attribute set so each set is encoded once
    /// and many NLRI share a message.
    /// </summary>
    private async Task ExportLoopAsync(BgpConnection conn, CancellationToken ct)
    {
        using var sub = Table.Subscribe(Name);
        _subscription = sub;
        try
        {
            HashSet<Prefix>? dirty = sub.TryTake(null) ?? [];
            await ExportAsync(conn, dirty, ct).ConfigureAwait(false);
            BgpCodec codec;
            lock (_sync)
                codec = _fsm.Codec;
            if (Options.Ipv4)
                await conn.SendAsync(w => UpdateWriter.WriteEndOfRib(w, false), ct).ConfigureAwait(false);
            if (Options.Ipv6)
                await conn.SendAsync(w => UpdateWriter.WriteEndOfRib(w, true), ct).ConfigureAwait(false);
            while (!ct.IsCancellationRequested)
            {
                dirty = await sub.WaitAsync(dirty, ct).ConfigureAwait(false);
                await ExportAsync(conn, dirty, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            _subscription = null;
        }
    }

    private async Task ExportAsync(BgpConnection conn, HashSet<Prefix> dirty, CancellationToken ct)
    {
        if (dirty.Count == 0)
            return;
        BgpCodec codec;
        IpAddr? local;
        lock (_sync)
        {
            codec = _fsm.Codec;
            local = _localAddress;
        }
        var groups = new Dictionary<PathAttributes, List<Nlri>>(ReferenceEqualityComparer.Instance as IEqualityComparer<PathAttributes>);
        var withdraw4 = new List<Nlri>();
        var withdraw6 = new List<Nlri>();
        foreach (var prefix in dirty)
        {
            if (prefix.IsV6 ? !Options.Ipv6 : !Options.Ipv4)
                continue;
            var desired = Desired(prefix, local);
            lock (_sync)
            {
                _adjRibOut.TryGetValue(prefix, out var current);
                if (desired is null)
                {
                    if (current is null)
                        continue;
                    _adjRibOut.Remove(prefix);
                    (prefix.IsV6 ? withdraw6 : withdraw4).Add(new Nlri(prefix));
                    Stats.CountExportWithdraw();
                    Stats.AddExported(-1);
                    continue;
                }
                if (ReferenceEquals(current, desired))
                    continue;
                if (current is null)
                    Stats.AddExported(1);
                _adjRibOut[prefix] = desired;
            }
            if (!groups.TryGetValue(desired, out var list))
                groups[desired] = list = [];
            list.Add(new Nlri(prefix));
            Stats.CountExportUpdate(true);
        }
        if (withdraw4.Count > 0)
            await conn.SendAsync(w => UpdateWriter.WriteWithdrawals(w, codec, withdraw4.ToArray(), false), ct).ConfigureAwait(false);
        if (withdraw6.Count > 0)
            await conn.SendAsync(w => UpdateWriter.WriteWithdrawals(w, codec, withdraw6.ToArray(), true), ct).ConfigureAwait(false);
        foreach (var (attrs, list) in groups)
        {
            var v4 = list.Where(n => !n.Prefix.IsV6).ToArray();
            var v6 = list.Where(n => n.Prefix.IsV6).ToArray();
            if (v4.Length > 0)
            {
                var encoded = AttributeEncoder.Encode(attrs, codec, ipv4NextHop: true);
                await conn.SendAsync(w => UpdateWriter.WriteAnnouncements(w, codec, encoded, v4, false), ct).ConfigureAwait(false);
            }
            if (v6.Length > 0 && attrs.NextHop is { IsV6: true } nh6)
            {
                var encoded = AttributeEncoder.Encode(attrs, codec, ipv4NextHop: false);
                await conn.SendAsync(w => UpdateWriter.WriteAnnouncements(w, codec, encoded, v6, true, nh6, attrs.NextHopLinkLocal), ct).ConfigureAwait(false);
            }
        }
        lock (_sync)
            _fsm.MessageSent();
    }

    /// <summary>The interned attributes we want the neighbour to have for <paramref name="prefix"/>, or null.</summary>
    private PathAttributes? Desired(Prefix prefix, IpAddr? local)
    {
        var entry = Table.Find(prefix);
        var best = entry?.Best;
        if (best is null)
            return null;
        var prepared = ExportPolicy.Prepare(best, this, local);
        if (prepared is null)
            return null;
        var candidate = best.WithAttributes(Table.Attributes.Intern(prepared));
        var accepted = Options.ExportFilter.Apply(candidate, Table.Attributes);
        if (accepted is null)
        {
            Stats.CountExportUpdate(false);
            return null;
        }
        // Only BGP attributes travel; the local route's own fields (source, gateway) stay behind.
        var wire = accepted.Attributes with
        {
            Source = RouteSource.Bgp,
            Dest = RouteDest.Router,
            Gateway = null,
            Interface = null,
            From = null,
            KrtMetric = null,
            KrtTunnel = null,
            KrtSource = null,
        };
        return Table.Attributes.Intern(wire);
    }
}
