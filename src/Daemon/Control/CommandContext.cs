using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Control;

/// <summary>Per-connection state a command can change (<c>restrict</c>, <c>echo</c>).</summary>
internal sealed class SessionState
{
    public bool Restricted { get; set; }
    /// <summary>Log classes echoed as <c>+</c> lines; 0 = off.</summary>
    public EchoClasses Echo { get; set; }
    /// <summary>Set by <c>down</c>: the session closes after the reply.</summary>
    public bool CloseAfterReply { get; set; }
    /// <summary>Set by <c>down</c>: the session asks the backend to shut down once the reply is sent.</summary>
    public bool ShutdownRequested { get; set; }
}

/// <summary>Log classes of <c>echo</c> (BIRD's <c>L_*</c> masks).</summary>
[Flags]
public enum EchoClasses
{
    None = 0,
    Debug = 1,
    Trace = 2,
    Info = 4,
    Remote = 8,
    Warning = 16,
    Error = 32,
    Auth = 64,
    Bug = 128,
    All = Debug | Trace | Info | Remote | Warning | Error | Auth | Bug,
}

/// <summary>Everything a command handler needs.</summary>
internal sealed class CommandContext(IControlBackend backend, ReplyWriter reply, SessionState session, TimeProvider time, Func<ValueTask> flush, CancellationToken cancellation)
{
    public IControlBackend Backend { get; } = backend;
    public ReplyWriter Reply { get; } = reply;
    public SessionState Session { get; } = session;
    public TimeProvider Time { get; } = time;
    public CancellationToken Cancellation { get; } = cancellation;

    /// <summary>Sends what is buffered when enough has piled up (long <c>show route</c> replies).</summary>
    public ValueTask FlushIfNeededAsync() => Reply.ShouldFlush ? flush() : ValueTask.CompletedTask;

    /// <summary>BIRD's <c>cli_access_restricted</c>: true (and <c>8007 Access denied</c> sent) in a restricted session.</summary>
    public bool DenyIfRestricted()
    {
        if (!Session.Restricted)
            return false;
        Reply.Final(8007, "Access denied");
        return true;
    }

    public Protocol? FindProtocol(string name)
    {
        foreach (var p in Backend.Protocols)
        {
            if (p.Name == name)
                return p;
        }
        return null;
    }
}
