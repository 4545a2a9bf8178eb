using System.Diagnostics;
using System.Runtime.CompilerServices;
namespace Calico.Bgp.Rib;

/// <summary>
/// The writer's edits of a <see cref="RouteEntry"/> payload (a <see cref="Route"/>, a <c>Route[]</c>
/// best first, or null for none). Every edit returns a new payload and leaves the old one alone, since
/// readers may hold it; one route stays a bare <see cref="Route"/> so a single-route prefix costs no array.
/// </summary>
internal static class RouteList
{
    /// <summary>
    /// Whether a payload that is not null holds several routes (a <c>Route[]</c>) rather than one.
    /// </summary>
    /// <remarks>
    /// One compare of the object's type: every array of routes a payload holds is made as a
    /// <c>Route[]</c> here or from one (a copy, a slice), never as an array of a derived type, which
    /// <see cref="Many"/> asserts. <c>payload is Route</c> on an <c>object</c> is a runtime helper that
    /// walks the route's class chain, and ran for every received route in the import's
    /// <see cref="Count"/> and <see cref="At"/> and in <see cref="RouteEntry.Seal"/> (1.6 % of P1's
    /// window, bench/RESULTS-perf.md, twenty-eighth round).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsMany(object payload) => payload.GetType() == typeof(Route[]);

    /// <summary>A payload of several routes, checked in debug builds to be exactly a <c>Route[]</c> (<see cref="IsMany"/>).</summary>
    public static Route[] Many(Route[] routes)
    {
        Debug.Assert(routes.GetType() == typeof(Route[]), "a payload's array of routes must be a Route[] exactly");
        return routes;
    }

    // Inlined by request: the AOT compiler, without a call site to weigh, left it a call per received route (bench/RESULTS-perf.md, twenty-first round).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Count(object? payload) =>
        payload is null ? 0 : IsMany(payload) ? Unsafe.As<Route[]>(payload).Length : 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Route At(object payload, int index) =>
        IsMany(payload) ? Unsafe.As<Route[]>(payload)[index] : Unsafe.As<Route>(payload);

    public static int IndexOfSlot(object? payload, Protocol protocol, uint pathId)
    {
        var n = Count(payload);
        for (var i = 0; i < n; i++)
        {
            var r = At(payload!, i);
            if (ReferenceEquals(r.Protocol, protocol) && r.PathId == pathId)
                return i;
        }
        return -1;
    }

    /// <summary>The payload without the route at <paramref name="index"/>.</summary>
    public static object? RemoveAt(object payload, int index)
    {
        if (!IsMany(payload))
            return null;
        var many = Unsafe.As<Route[]>(payload);
        // One route in an array: a route that was an entry before, kept in an entry of its own (RouteEntry).
        if (many.Length == 1)
            return null;
        if (many.Length == 2)
            return many[1 - index];
        var kept = new Route[many.Length - 1];
        Array.Copy(many, kept, index);
        Array.Copy(many, index + 1, kept, index, kept.Length - index);
        return kept;
    }

    /// <summary>The payload with <paramref name="route"/> after every route that is at least as good (the decision process's order).</summary>
    public static object Insert(object? payload, Route route)
    {
        var n = Count(payload);
        if (n == 0)
            return route;
        var i = 0;
        while (i < n && DecisionProcess.Compare(At(payload!, i), route) <= 0)
            i++;
        var grown = new Route[n + 1];
        for (var j = 0; j < n; j++)
            grown[j < i ? j : j + 1] = At(payload!, j);
        grown[i] = route;
        return Many(grown);
    }

    /// <summary>A copy of the routes as an array the caller may change.</summary>
    public static Route[] ToArray(object? payload) =>
        payload is null ? [] : IsMany(payload) ? (Route[])Unsafe.As<Route[]>(payload).Clone() : [Unsafe.As<Route>(payload)];

    /// <summary>The payload for the first <paramref name="count"/> routes of <paramref name="routes"/>, sorted by the decision process.</summary>
    public static object? FromArray(Route[] routes, int count, bool sort)
    {
        if (count == 0)
            return null;
        if (count == 1)
            return routes[0];
        var kept = count == routes.Length ? routes : routes[..count];
        if (sort)
            Array.Sort(kept, static (a, b) => DecisionProcess.Compare(a, b));
        return Many(kept);
    }
}
