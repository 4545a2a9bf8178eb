using System.Runtime.CompilerServices;

// The tests check the Adj-RIB-Out against a dictionary model; the micro-benchmarks drive an update
// group's pass directly (UpdateGroupBenchmarks), without sockets.
[assembly: InternalsVisibleTo("Calico.Bgp.Speaker.Tests")]
[assembly: InternalsVisibleTo("Calico.Bgp.Benchmarks")]
