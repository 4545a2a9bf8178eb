namespace Calico.Bgp.Daemon.Control;

public enum ConfigureKind
{
    /// <summary><c>configure ["file"] [timeout [n]]</c>.</summary>
    Normal,
    /// <summary><c>configure soft …</c>: filter changes do not reload routes.</summary>
    Soft,
    /// <summary><c>configure check ["file"]</c>: parse only.</summary>
    Check,
    /// <summary><c>configure confirm</c>: cancel the undo timer.</summary>
    Confirm,
    /// <summary><c>configure undo</c>: go back to the previous config.</summary>
    Undo,
}

/// <summary>A <c>configure</c> command as parsed from the socket.</summary>
/// <param name="Kind">Which form.</param>
/// <param name="File">The quoted file argument, or null for the daemon's <c>-c</c> file.</param>
/// <param name="TimeoutSeconds">
/// <c>timeout [n]</c>: undo unless confirmed within n seconds (300 when n is omitted, as BIRD); null without timeout.
/// </param>
public sealed record ConfigureRequest(ConfigureKind Kind, string? File = null, int? TimeoutSeconds = null)
{
    /// <summary>BIRD's <c>UNIX_DEFAULT_CONFIGURE_TIMEOUT</c>.</summary>
    public const int DefaultTimeoutSeconds = 300;
}

/// <summary>One reply line: its code and text.</summary>
public readonly record struct ReplyLine(int Code, string Text);

/// <summary>
/// The reply of a <c>configure</c> command, line by line; the last line is the final one. The
/// factories give BIRD 1.6's exact replies.
/// </summary>
public sealed record ConfigureResult(IReadOnlyList<ReplyLine> Lines)
{
    private static ReplyLine Reading(string path) => new(2, $"Reading configuration from {path}");

    /// <summary><c>0002-Reading configuration from F</c>, <c>0003 Reconfigured</c>.</summary>
    public static ConfigureResult Reconfigured(string path) => new([Reading(path), new(3, "Reconfigured")]);

    /// <summary>Protocols restart asynchronously: <c>0004 Reconfiguration in progress</c>.</summary>
    public static ConfigureResult InProgress(string path) => new([Reading(path), new(4, "Reconfiguration in progress")]);

    /// <summary>A configure arrived while one runs: <c>0005 Reconfiguration already in progress, queueing new config</c>.</summary>
    public static ConfigureResult Queued(string path) => new([Reading(path), new(5, "Reconfiguration already in progress, queueing new config")]);

    /// <summary><c>0006 Reconfiguration ignored, shutting down</c>.</summary>
    public static ConfigureResult IgnoredShuttingDown(string path) => new([Reading(path), new(6, "Reconfiguration ignored, shutting down")]);

    /// <summary><c>configure check</c>: <c>0020 Configuration OK</c>.</summary>
    public static ConfigureResult Ok(string path) => new([Reading(path), new(20, "Configuration OK")]);

    /// <summary>
    /// A config error: <c>8002 file:line:col message</c> (pass <paramref name="error"/> as
    /// <c>/abs/f.cfg:5:1 syntax error</c>) or, for an unreadable file, <c>/abs/f.cfg: No such file or directory</c>.
    /// </summary>
    public static ConfigureResult Error(string path, string error) => new([Reading(path), new(8002, error)]);

    /// <summary><c>configure timeout n</c>: <c>0022-Undo scheduled in n s</c> before the outcome.</summary>
    public static ConfigureResult ReconfiguredWithUndo(string path, int seconds, bool inProgress = false) =>
        new([Reading(path), new(22, $"Undo scheduled in {seconds} s"), inProgress ? new(4, "Reconfiguration in progress") : new(3, "Reconfigured")]);

    /// <summary><c>configure confirm</c>: <c>0018 Reconfiguration confirmed</c>.</summary>
    public static ConfigureResult Confirmed() => new([new(18, "Reconfiguration confirmed")]);

    /// <summary><c>configure confirm|undo</c> with nothing pending: <c>0019 Nothing to do</c>.</summary>
    public static ConfigureResult NothingToDo() => new([new(19, "Nothing to do")]);

    /// <summary><c>configure undo</c>: <c>0021-Undo requested</c>, <c>0003 Reconfigured</c>.</summary>
    public static ConfigureResult UndoRequested(bool inProgress = false) =>
        new([new(21, "Undo requested"), inProgress ? new(4, "Reconfiguration in progress") : new(3, "Reconfigured")]);
}
