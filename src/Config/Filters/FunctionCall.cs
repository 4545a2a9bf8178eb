namespace Calico.Bgp.Config.Filters;

/// <summary>A compiled call of a filter function: its frame goes on the run's value stack, not in a new array.</summary>
internal static class FunctionCall
{
    /// <summary>Runs <paramref name="body"/> in a fresh frame holding the arguments; <c>return</c> ends only the function.</summary>
    public static Exec Compile(Eval[] args, Exec body, int frameSize) => s =>
    {
        // The callee's frame is reserved before the arguments are evaluated, so calls inside them
        // stack above it; they run in the caller's frame, which stays current until all are in.
        var start = s.Push(frameSize);
        for (var i = 0; i < args.Length; i++)
        {
            var v = args[i](s); // may grow the stack: read Stack only after
            s.Stack[start + i] = v;
        }
        var callerBase = s.FrameBase;
        s.FrameBase = start;
        var flow = body(s);
        s.FrameBase = callerBase;
        s.FrameTop = start;
        return flow == Flow.Return ? Flow.Continue : flow;
    };
}
