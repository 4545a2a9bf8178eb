using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker;

/// <summary>
/// Which routes a session may send and with which attributes, before the export filter, as
/// BIRD 1.6's <c>bgp_import_control</c> (<c>bgp_create_attrs</c>/<c>bgp_update_attrs</c>) does.
/// </summary>
public static class ExportPolicy
{
    /// <summary>
    /// The attributes to send for <paramref name="route"/>, or null when the rules forbid sending it
    /// (our own route back, iBGP to iBGP without reflection, no usable next hop).
    /// </summary>
    public static PathAttributes? Prepare(Route route, BgpProtocol to, IpAddr? localAddress)
    {
        if (ReferenceEquals(route.Protocol, to))
            return null;
        return Prepare(route, to.Options, to.Options.SourceAddress ?? localAddress);
    }

    /// <summary>
    /// The same rules for a peer described by its options and our next hop <paramref name="self"/>,
    /// except "not back to its source", which an update group applies per member.
    /// </summary>
    public static PathAttributes? Prepare(Route route, BgpProtocolOptions o, IpAddr? self)
    {
        var a = route.Attributes;
        var from = route.Protocol as BgpProtocol;
        if (route.Prefix.IsV6 && self is { IsV6: false })
            self = null;
        if (!route.Prefix.IsV6 && self is { IsV6: true })
            self = null;
        if (from is null || a.Source != RouteSource.Bgp)
        {
            // bgp_create_attrs: a route from another protocol gets fresh BGP attributes.
            var keepGw = !o.NextHopSelf && a.Dest == RouteDest.Router && a.Gateway is { } gw && !gw.IsUnspecified && !gw.IsV6LinkLocal && o.IsInternal;
            var nh = keepGw ? a.Gateway : self;
            if (nh is null)
                return null;
            return a with
            {
                Origin = a.Origin ?? BgpOrigin.Igp,
                AsPath = o.IsInternal ? a.AsPath ?? AsPath.Empty : (a.AsPath ?? AsPath.Empty).Prepend(o.LocalAs),
                NextHop = nh,
                LocalPref = o.IsInternal ? a.LocalPref ?? DecisionProcess.DefaultLocalPref : null,
            };
        }
        if (o.IsInternal && from.IsInternal)
        {
            // RFC 4456 §8: iBGP routes go to iBGP peers only by reflection (to or from a client).
            if (!o.RrClient && !from.Options.RrClient)
                return null;
            var peerId = from.BgpPeer?.RouterId ?? 0;
            var clusters = a.ClusterList.IsDefault ? [] : a.ClusterList;
            a = a with
            {
                OriginatorId = a.OriginatorId ?? peerId,
                ClusterList = clusters.Insert(0, o.ClusterId),
            };
        }
        if (o.IsInternal)
        {
            var nh = o.NextHopSelf ? self : a.NextHop ?? self;
            if (nh is null)
                return null;
            return a with { NextHop = nh, LocalPref = a.LocalPref ?? DecisionProcess.DefaultLocalPref };
        }
        // eBGP: prepend our AS, next hop self (unless next hop keep), no LOCAL_PREF, no reflection attributes.
        var ebgpNh = o.NextHopKeep && a.NextHop is not null ? a.NextHop : self;
        if (ebgpNh is null)
            return null;
        return a with
        {
            AsPath = (a.AsPath ?? AsPath.Empty).Prepend(o.LocalAs),
            NextHop = ebgpNh,
            LocalPref = null,
            Med = from.IsInternal ? a.Med : null,
            OriginatorId = null,
            ClusterList = default,
        };
    }
}
