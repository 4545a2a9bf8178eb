using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Rib;

/// <summary>BIRD's protocol states (<c>PS_DOWN</c>, <c>PS_START</c>, <c>PS_UP</c>, <c>PS_STOP</c>).</summary>
public enum ProtocolState
{
    Down,
    Start,
    Up,
    Stop,
}

/// <summary>What the decision process needs to know about the BGP session a route came from.</summary>
/// <param name="NeighborAddress">The peer's address (last tie-breaker, RFC 4271 §9.1.2.2 g).</param>
/// <param name="RouterId">The peer's BGP identifier from its OPEN.</param>
/// <param name="IsExternal">eBGP (true) or iBGP (false).</param>
public readonly record struct BgpPeerIdentity(IpAddr NeighborAddress, uint RouterId, bool IsExternal);

/// <summary>
/// A routing protocol instance (BIRD's <c>struct proto</c>): a name, a type, a state with the time
/// it was entered, and the routes it owns in a table. Subclasses live in Bgp and Fib; the daemon
/// starts and stops them.
/// </summary>
public abstract class Protocol
{
    private volatile ProtocolState _state = ProtocolState.Down;
    private long _stateSinceTicks;

    protected Protocol(string name, RoutingTable table, TimeProvider time, int preference)
    {
        Name = name;
        Table = table;
        Time = time;
        Preference = preference;
        _stateSinceTicks = time.GetUtcNow().UtcTicks;
    }

    public string Name { get; }
    /// <summary>The type column of <c>show protocols</c>: <c>BGP</c>, <c>Kernel</c>, <c>Device</c>, …</summary>
    public abstract string TypeName { get; }
    public RoutingTable Table { get; }
    public TimeProvider Time { get; }
    /// <summary>Preference given to the routes this protocol imports (BIRD's defaults: direct 240, static 200, BGP 100, kernel 10).</summary>
    public int Preference { get; }
    public ProtocolStats Stats { get; } = new();

    /// <summary>The loggers of BIRD's debug classes for this instance; a subclass sets them from its logger factory.</summary>
    public ProtocolTrace Trace { get; protected init; } = ProtocolTrace.None;

    public ProtocolState State => _state;
    public DateTimeOffset StateSince => new(Interlocked.Read(ref _stateSinceTicks), TimeSpan.Zero);

    /// <summary>The info column of <c>show protocols</c>.</summary>
    public virtual string Info => "";

    /// <summary>Set for routes of a BGP session; the decision process reads it.</summary>
    public virtual BgpPeerIdentity? BgpPeer => null;

    protected void SetState(ProtocolState state)
    {
        if (_state == state)
            return;
        _state = state;
        Interlocked.Exchange(ref _stateSinceTicks, Time.GetUtcNow().UtcTicks);
        // BIRD's proto_notify_state under `debug { states }`, written as the change happens.
        if (Trace.States.IsEnabled(LogLevel.Debug))
            Trace.States.LogDebug(ProtocolEvents.ProtocolStateChanged, "{Protocol}: State changed to {State}", Name, StateName(state));
    }

    /// <summary>BIRD's names of the protocol states (<c>p_states</c>).</summary>
    public static string StateName(ProtocolState state) => state switch
    {
        ProtocolState.Down => "down",
        ProtocolState.Start => "start",
        ProtocolState.Up => "up",
        _ => "stop",
    };

    public abstract Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops the protocol and, unless it persists them, withdraws its routes.</summary>
    public abstract Task StopAsync(CancellationToken cancellationToken);

    public override string ToString() => Name;
}
