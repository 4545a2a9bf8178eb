using System.Runtime.InteropServices;

namespace Calico.Bgp.LoadGen.Orchestration;

/// <summary>
/// libc calls for <see cref="KernelArrivals"/>'s listener thread: pinned to a core and at real-time
/// priority, because an awaited receive per notification cost tens of microseconds each and made the
/// last of 400 routes look about 10 ms later than the kernel had it. The socket is src/Fib's.
/// </summary>
internal static partial class ArrivalNative
{
    public const int SchedFifo = 1;

    /// <summary>sched_setscheduler(2) for the calling thread (pid 0); the parameter is struct sched_param's one int.</summary>
    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    public static partial int SchedSetScheduler(int pid, int policy, ref int priority);

    /// <summary>sched_setaffinity(2) for the calling thread (pid 0), with a mask of one 64-bit word.</summary>
    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    public static partial int SchedSetAffinity(int pid, nuint size, ref ulong mask);
}
