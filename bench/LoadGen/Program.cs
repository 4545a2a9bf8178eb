using Calico.Bgp.LoadGen;
using Calico.Bgp.LoadGen.Agent;
using Calico.Bgp.LoadGen.Orchestration;

// Two programs in one: `agent …` is the generator the driver starts inside the generator
// namespace; anything else is the driver that runs the scenarios and writes bench/RESULTS.md.
if (args.Length > 0 && args[0] == "agent")
{
    // The generator must never be what a latency measures. With the pool's default of one worker
    // per core, its monitors' receive loops were starved for up to a second in the first seconds
    // of P4 (workers blocked while the pool added threads one at a time), which showed as a p99 of
    // 670-850 ms against every DUT that answered fast enough to expose it (1.2 ms with this).
    ThreadPool.GetMinThreads(out var workers, out var io);
    ThreadPool.SetMinThreads(Math.Max(workers, 16), io);
    return await AgentHost.MainAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "soak")
    return await Calico.Bgp.LoadGen.Soak.SoakRunner.RunAsync(args[1..]);

// The driver itself stays off the DUT's core (the generator's core, as its agent and monitors): unpinned,
// its threads ran on core 1 beside the DUT and held a pool worker of ours from the core for up to
// 0.84 ms (perf sched, P4 100/s). Every thread there now is pinned; the ones made later inherit it.
Scenarios.KeepDriverOffDutCore();

if (!BenchOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
return await BenchRunner.RunAsync(options, args);
