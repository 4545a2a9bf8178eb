using Calico.Bgp.LoadGen;
using Calico.Bgp.LoadGen.Agent;
using Calico.Bgp.LoadGen.Orchestration;

// Two programs in one: `agent …` is the generator the driver starts inside the generator
// namespace; anything else is the driver that runs the scenarios and writes bench/RESULTS.md.
if (args.Length > 0 && args[0] == "agent")
    return await AgentHost.MainAsync(args[1..]);
if (args.Length > 0 && args[0] == "soak")
    return await Calico.Bgp.LoadGen.Soak.SoakRunner.RunAsync(args[1..]);

if (!BenchOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
return await BenchRunner.RunAsync(options, args);
