namespace Calico.Bgp.Fuzz;

/// <summary>One fuzz target: takes the input bytes; throws only when it found a bug.</summary>
internal delegate void FuzzTarget(ReadOnlySpan<byte> input);

/// <summary>The input surfaces, by the name <c>run.sh</c> takes.</summary>
internal static class Targets
{
    public static readonly IReadOnlyDictionary<string, FuzzTarget> All = new Dictionary<string, FuzzTarget>
    {
        ["bgp"] = BgpTarget.Run,
        ["netlink"] = NetlinkTarget.Run,
        ["config"] = ConfigTarget.Run,
        ["control"] = ControlTarget.Run,
    };

    /// <summary>Runs each file once and reports what it throws: triage of AFL's crashes/ and hangs/.</summary>
    public static int Replay(FuzzTarget target, string[] files)
    {
        var failed = 0;
        foreach (var file in files)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                target(File.ReadAllBytes(file));
                Console.WriteLine($"{file}: ok ({started.ElapsedMilliseconds} ms)");
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"{file}: {e}");
            }
        }
        return failed == 0 ? 0 : 1;
    }
}
