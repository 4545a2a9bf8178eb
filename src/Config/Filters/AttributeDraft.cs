using System.Collections.Immutable;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Filters;

/// <summary>
/// The attributes a filter can write, as plain mutable fields: one run's writes land here and the
/// new <see cref="PathAttributes"/> is built once at the end, instead of a copy of the whole set
/// (~300 B) on every write.
/// </summary>
internal sealed class AttributeDraft
{
    public RouteDest Dest;
    public IpAddr? Gateway;
    public IpAddr? From;
    public uint? KrtMetric;
    public string? KrtTunnel;
    public uint? LocalPref;
    public uint? Med;
    public IpAddr? NextHop;
    public BgpOrigin? Origin;
    public AsPath? AsPath;
    public uint? OriginatorId;
    public ImmutableArray<Community> Communities;
    public ImmutableArray<LargeCommunity> LargeCommunities;
    public ImmutableArray<uint> ClusterList;

    public void Load(PathAttributes a)
    {
        Dest = a.Dest;
        Gateway = a.Gateway;
        From = a.From;
        KrtMetric = a.KrtMetric;
        KrtTunnel = a.KrtTunnel;
        LocalPref = a.LocalPref;
        Med = a.Med;
        NextHop = a.NextHop;
        Origin = a.Origin;
        AsPath = a.AsPath;
        OriginatorId = a.OriginatorId;
        Communities = a.Communities;
        LargeCommunities = a.LargeCommunities;
        ClusterList = a.ClusterList;
    }

    /// <summary><paramref name="a"/> with these fields in place of its own (a new, not yet interned set).</summary>
    public PathAttributes ApplyTo(PathAttributes a) => a with
    {
        Dest = Dest,
        Gateway = Gateway,
        From = From,
        KrtMetric = KrtMetric,
        KrtTunnel = KrtTunnel,
        LocalPref = LocalPref,
        Med = Med,
        NextHop = NextHop,
        Origin = Origin,
        AsPath = AsPath,
        OriginatorId = OriginatorId,
        Communities = Communities,
        LargeCommunities = LargeCommunities,
        ClusterList = ClusterList,
    };

    /// <summary>Whether <paramref name="a"/> holds these values, compared as <see cref="PathAttributes.Equals(PathAttributes?)"/> does.</summary>
    public bool Matches(PathAttributes a) =>
        Dest == a.Dest
        && Gateway == a.Gateway
        && From == a.From
        && KrtMetric == a.KrtMetric
        && KrtTunnel == a.KrtTunnel
        && LocalPref == a.LocalPref
        && Med == a.Med
        && NextHop == a.NextHop
        && Origin == a.Origin
        && Equals(AsPath, a.AsPath)
        && OriginatorId == a.OriginatorId
        && SameList(Communities, a.Communities)
        && SameList(LargeCommunities, a.LargeCommunities)
        && SameList(ClusterList, a.ClusterList);

    /// <summary>A hash of the fields filters usually write; the memo compares all of them anyway.</summary>
    public int Hash() => HashCode.Combine(Dest, Gateway, KrtMetric, KrtTunnel, LocalPref, Med, NextHop,
        HashCode.Combine(Origin, OriginatorId, Communities.IsDefault ? -1 : Communities.Length, LargeCommunities.IsDefault ? -1 : LargeCommunities.Length));

    private static bool SameList<T>(ImmutableArray<T> a, ImmutableArray<T> b)
    {
        if (a.IsDefault || b.IsDefault)
            return a.IsDefault == b.IsDefault;
        return a.AsSpan().SequenceEqual(b.AsSpan());
    }
}
