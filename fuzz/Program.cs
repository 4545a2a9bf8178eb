using Calico.Bgp.Fuzz;
using SharpFuzz;

// calico-bgp-fuzz TARGET            run under afl-fuzz (persistent mode, input on stdin/shared memory)
// calico-bgp-fuzz TARGET FILE...    replay inputs without AFL: runs each and prints the exception, if any
// calico-bgp-fuzz --seeds DIR         writes the bgp and netlink seeds made by our encoders
if (args is ["--seeds", var seedDir])
{
    SeedWriter.Write(seedDir);
    return 0;
}
if (args.Length == 0 || !Targets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: calico-bgp-fuzz {{{string.Join('|', Targets.All.Keys)}}} [FILE...]");
    return 2;
}
if (args.Length > 1)
    return Targets.Replay(target, args[1..]);
var buffer = new MemoryStream();
void RunOne(Stream stream)
{
    buffer.SetLength(0);
    stream.CopyTo(buffer);
    target(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
}
// Persistent mode is fast, but a stack overflow ends the process and AFL loses the input ("Unable
// to communicate with fork server"); FUZZ_OUT_OF_PROCESS=1 runs each input in a child that AFL
// can see die, and saves it under crashes/.
if (Environment.GetEnvironmentVariable("FUZZ_OUT_OF_PROCESS") == "1")
    Fuzzer.OutOfProcess.Run(RunOne);
else
    Fuzzer.Run(RunOne);
return 0;
