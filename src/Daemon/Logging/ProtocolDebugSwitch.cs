using System.Collections.Concurrent;
using Calico.Bgp.Config;
using Calico.Bgp.Daemon.Control;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>
/// Each protocol's BIRD debug flags, as the config (<c>debug { states, routes }</c>) and the
/// <c>debug</c> command set them, and the rule they apply to that protocol's log: Information and
/// above always pass; a Debug or Trace message passes when its event id's class
/// (<see cref="ProtocolLogEvents.ClassOf"/>) is switched on, or, for ids outside the classes, with
/// <c>debug all</c>. Messages of other categories are not this switch's business.
/// </summary>
public sealed class ProtocolDebugSwitch
{
    private readonly ConcurrentDictionary<string, ProtocolDebug> _flags = new(StringComparer.Ordinal);
    private int _version;

    /// <summary>
    /// Changes with every change of any protocol's flags, so a reader on a hot path can keep the
    /// flags it read and look them up again only when this moved (see <see cref="ProtocolClassLogger"/>).
    /// </summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>The config's flags in the control model's terms (the bits are BIRD's in both).</summary>
    public static ProtocolDebug FromConfig(DebugFlags flags) => (ProtocolDebug)(int)flags;

    public ProtocolDebug this[string protocol]
    {
        get => _flags.GetValueOrDefault(protocol);
        set
        {
            if (value == ProtocolDebug.None)
                _flags.TryRemove(protocol, out _);
            else
                _flags[protocol] = value;
            Interlocked.Increment(ref _version);
        }
    }

    /// <summary>Makes the flags those of <paramref name="protocols"/> (a config applied): others are forgotten.</summary>
    public void Reset(IEnumerable<(string Name, ProtocolDebug Flags)> protocols)
    {
        var wanted = protocols.ToDictionary(p => p.Name, p => p.Flags, StringComparer.Ordinal);
        foreach (var name in _flags.Keys)
        {
            if (!wanted.ContainsKey(name))
                _flags.TryRemove(name, out _);
        }
        Interlocked.Increment(ref _version);
        foreach (var (name, flags) in wanted)
            this[name] = flags;
    }

    /// <summary>The protocol a category belongs to, or null for categories of no protocol.</summary>
    public static string? ProtocolOf(string category) =>
        category.StartsWith(ProtocolLogEvents.CategoryPrefix, StringComparison.Ordinal) && category.Length > ProtocolLogEvents.CategoryPrefix.Length
            ? category[ProtocolLogEvents.CategoryPrefix.Length..]
            : null;

    /// <summary>Whether any Debug message of <paramref name="protocol"/> can pass (for <c>IsEnabled</c>).</summary>
    public bool AnyDebug(string protocol) => this[protocol] != ProtocolDebug.None;

    /// <summary>Whether a message of <paramref name="protocol"/> at <paramref name="level"/> with <paramref name="id"/> is written.</summary>
    public bool Admits(string protocol, LogLevel level, EventId id)
    {
        if (level >= LogLevel.Information)
            return true;
        var flags = this[protocol];
        if (flags == ProtocolDebug.None)
            return false;
        var cls = ProtocolLogEvents.ClassOf(id);
        return cls == ProtocolDebug.None ? flags == ProtocolDebug.All : (flags & cls) != 0;
    }
}
