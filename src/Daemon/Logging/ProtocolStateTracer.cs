using System.Runtime.CompilerServices;
using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Calico.Bgp.Speaker.Session;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>
/// Writes BIRD's <c>debug { states }</c> lines (protocol state and BGP FSM state changes) for the
/// protocols that asked for them, at Debug under each protocol's category. The protocols keep no
/// observer of their own states, so this samples them (every <see cref="Period"/>): a state held for
/// less than a period may be missed. Each new instance starts from Down, as protocols are built.
/// </summary>
internal sealed class ProtocolStateTracer : IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    private readonly Func<IReadOnlyList<Protocol>> _protocols;
    private readonly ProtocolDebugSwitch _debug;
    private readonly ILoggerFactory _loggers;
    private readonly ConditionalWeakTable<Protocol, Seen> _seen = [];
    private readonly Dictionary<string, ILogger> _logs = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly ITimer _timer;

    public ProtocolStateTracer(Func<IReadOnlyList<Protocol>> protocols, ProtocolDebugSwitch debug, ILoggerFactory loggers, TimeProvider time)
    {
        _protocols = protocols;
        _debug = debug;
        _loggers = loggers;
        _timer = time.CreateTimer(_ => Sample(), null, Period, Period);
    }

    /// <summary>Compares each protocol's states with the last sample and writes the changes.</summary>
    public void Sample()
    {
        // Timer callbacks may overlap when one runs late; one sample at a time keeps the order.
        lock (_lock)
        {
            foreach (var p in _protocols())
            {
                var seen = _seen.GetValue(p, static _ => new Seen());
                var state = p.State;
                var bgp = (p as BgpProtocol)?.BgpState ?? BgpState.Idle;
                var traced = (_debug[p.Name] & ProtocolDebug.States) != 0;
                if (traced && bgp != seen.Bgp)
                    Log(p.Name).LogDebug(ProtocolLogEvents.BgpStateChanged, "{Protocol}: BGP state changed from {From} to {To}", p.Name, seen.Bgp, bgp);
                if (traced && state != seen.State)
                    Log(p.Name).LogDebug(ProtocolLogEvents.ProtocolStateChanged, "{Protocol}: State changed to {State}", p.Name, state.ToString().ToLowerInvariant());
                seen.State = state;
                seen.Bgp = bgp;
            }
        }
    }

    private ILogger Log(string protocol)
    {
        if (!_logs.TryGetValue(protocol, out var log))
            _logs[protocol] = log = _loggers.CreateLogger(ProtocolLogEvents.Category(protocol));
        return log;
    }

    public void Dispose() => _timer.Dispose();

    private sealed class Seen
    {
        public ProtocolState State { get; set; } = ProtocolState.Down;
        public BgpState Bgp { get; set; } = BgpState.Idle;
    }
}
