using System.Runtime.CompilerServices;

// The kernel protocol's view (KernelView) is internal: its tests and its benchmark reach it directly.
[assembly: InternalsVisibleTo("Calico.Bgp.Fib.Tests")]
[assembly: InternalsVisibleTo("Calico.Bgp.Benchmarks")]
