using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Filters;

/// <summary>How a statement ends: go on, leave the function, or end the whole filter.</summary>
internal enum Flow : byte
{
    Continue,
    Return,
    Accept,
    Reject,
}

internal delegate FilterValue Eval(FilterState state);

internal delegate Flow Exec(FilterState state);

/// <summary>A failure while running a filter (BIRD's <c>runtime()</c>): the route is rejected.</summary>
internal sealed class FilterRuntimeException(string message) : Exception(message);

/// <summary>
/// What a filter sees and changes while it runs over one route. Filters run per route on hot paths,
/// so a state is not made per run: each thread keeps one (<see cref="Rent"/>/<see cref="Release"/>),
/// with its attribute draft, its value stack and its memo of built attribute sets.
/// </summary>
/// <remarks>
/// Attribute writes go to <see cref="Draft"/>, a mutable copy of the writable attributes, and the
/// new set is built once at the end (<see cref="AttributeMemo"/>), not copied on every write.
/// Variables live on one value stack: the filter's own frame at 0, each function call's frame above
/// its caller's (<see cref="FunctionCall"/>).
/// </remarks>
internal sealed class FilterState
{
    private const int InitialStack = 16;

    // One free state per thread; a run that starts while the thread's state is in use (a filter
    // run from inside another's log callback, say) gets a fresh one, so nothing is shared.
    [ThreadStatic]
    private static FilterState? _free;

    private int _highWater;

    public Route Route { get; private set; } = null!;
    /// <summary>The attributes the run started from (read-only ones are read here).</summary>
    public PathAttributes Base { get; private set; } = null!;
    /// <summary>The writable attributes as the filter has left them so far.</summary>
    public AttributeDraft Draft { get; } = new();
    /// <summary>Set by every attribute write or unset: the result needs <see cref="Draft"/> applied.</summary>
    public bool Written { get; set; }
    public int Preference { get; set; }
    public FilterValue ReturnValue { get; set; }
    public Action<string>? Log { get; private set; }
    public AttributeMemo Memo { get; } = new();

    /// <summary>Variables of every active frame.</summary>
    public FilterValue[] Stack { get; private set; } = new FilterValue[InitialStack];
    /// <summary>Where the running body's frame starts in <see cref="Stack"/>.</summary>
    public int FrameBase { get; set; }
    /// <summary>First slot above the active frames.</summary>
    public int FrameTop { get; set; }

    /// <summary>The thread's state, set up for one run over <paramref name="route"/>.</summary>
    public static FilterState Rent(Route route, Action<string>? log, int frameSize)
    {
        var s = _free ?? new FilterState();
        _free = null;
        s.Route = route;
        s.Base = route.Attributes;
        s.Draft.Load(route.Attributes);
        s.Written = false;
        s.Preference = route.Preference;
        s.ReturnValue = default;
        s.Log = log;
        s.FrameBase = 0;
        s.FrameTop = 0;
        s.Push(frameSize);
        return s;
    }

    /// <summary>Ends the run: drops what it referenced (so a pooled state keeps no route alive) and pools the state.</summary>
    public void Release()
    {
        Array.Clear(Stack, 0, _highWater);
        _highWater = 0;
        Route = null!;
        Base = null!;
        Draft.Load(PathAttributes.Empty);
        ReturnValue = default;
        Log = null;
        _free = this;
    }

    public FilterValue Local(int slot) => Stack[FrameBase + slot];

    public void SetLocal(int slot, FilterValue value) => Stack[FrameBase + slot] = value;

    /// <summary>
    /// Reserves a frame of <paramref name="size"/> slots above the active ones, cleared (variables
    /// start undefined, as in a fresh frame); returns where it starts.
    /// </summary>
    public int Push(int size)
    {
        var start = FrameTop;
        var top = start + size;
        if (top > Stack.Length)
        {
            var bigger = new FilterValue[Math.Max(top, Stack.Length * 2)];
            Array.Copy(Stack, bigger, FrameTop);
            Stack = bigger;
        }
        Array.Clear(Stack, start, size);
        FrameTop = top;
        _highWater = Math.Max(_highWater, top);
        return start;
    }
}

/// <summary>accept/reject inside a function called from an expression: ends the whole filter.</summary>
internal sealed class FilterTerminatedException(Flow flow) : Exception
{
    public Flow Flow { get; } = flow;
}
