using System.Reflection;
using System.Text;
using Calico.Bgp.Daemon.Control;

namespace Calico.Bgp.Fuzz;

/// <summary>
/// One control-socket request line through the daemon's own dispatcher (tokenizer, command
/// parsers, handlers, reply writer) against <see cref="FuzzControlBackend"/>. A syntax error
/// (<c>9001</c>/<c>9002</c>) or any other BIRD reply is the documented outcome; the dispatcher turns
/// an unexpected exception into <c>8000 Internal error</c>, so that reply is the finding here.
/// </summary>
/// <remarks>
/// The parser is internal to the daemon and the daemon's project file names only its tests as
/// friends, so the harness reaches it by reflection (bound once, not per input).
/// </remarks>
internal static class ControlTarget
{
    private static readonly Assembly Daemon = typeof(IControlBackend).Assembly;
    private static readonly Type ContextType = Daemon.GetType("Calico.Bgp.Daemon.Control.CommandContext", throwOnError: true)!;
    private static readonly Type ReplyType = Daemon.GetType("Calico.Bgp.Daemon.Control.ReplyWriter", throwOnError: true)!;
    private static readonly Type SessionType = Daemon.GetType("Calico.Bgp.Daemon.Control.SessionState", throwOnError: true)!;
    private static readonly MethodInfo Execute = Daemon.GetType("Calico.Bgp.Daemon.Control.CommandDispatcher", throwOnError: true)!
        .GetMethod("ExecuteAsync", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!;
    private static readonly PropertyInfo LastFinalCode = ReplyType.GetProperty("LastFinalCode")!;
    private static readonly PropertyInfo ReplyText = ReplyType.GetProperty("Text")!;
    private static readonly FuzzControlBackend Backend = new();

    /// <summary>The dispatcher's code for an exception it caught (CommandDispatcher.InternalErrorCode).</summary>
    private const int InternalErrorCode = 8000;

    public static void Run(ReadOnlySpan<byte> input) => Run(Encoding.UTF8.GetString(input));

    /// <summary>Runs one line (the socket splits at newlines, so a line holds none); returns the reply.</summary>
    public static string Run(string line)
    {
        var newline = line.IndexOf('\n');
        if (newline >= 0)
            line = line[..newline];
        var reply = Activator.CreateInstance(ReplyType, nonPublic: true)!;
        var session = Activator.CreateInstance(SessionType, nonPublic: true)!;
        Func<ValueTask> flush = () => ValueTask.CompletedTask;
        var context = Activator.CreateInstance(ContextType, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null,
            [Backend, reply, session, TimeProvider.System, flush, CancellationToken.None], null)!;
        var pending = (ValueTask)Execute.Invoke(null, [line, context])!;
        pending.AsTask().GetAwaiter().GetResult();
        var text = (string)ReplyText.GetValue(reply)!;
        if ((int)LastFinalCode.GetValue(reply)! == InternalErrorCode)
            throw new InvalidOperationException($"control command '{line}' hit an internal error: {text}");
        return text;
    }
}
