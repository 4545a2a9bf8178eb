using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Calico.Bgp.Lab;

/// <summary>
/// Creates sockets inside a network namespace: a dedicated thread enters the namespace with
/// setns(2), creates the socket and returns to the original namespace. A socket keeps the
/// namespace it was created in.
/// </summary>
public static partial class NetnsSockets
{
    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);

    public static Func<AddressFamily, Socket> Factory(string netns) => family => Create(netns, family);

    public static Socket Create(string netns, AddressFamily family)
    {
        Socket? result = null;
        Exception? error = null;
        var t = new Thread(() =>
        {
            try
            {
                using var original = File.OpenHandle("/proc/self/task/" + Gettid() + "/ns/net");
                using var target = File.OpenHandle("/var/run/netns/" + netns);
                if (setns((int)target.DangerousGetHandle(), CloneNewNet) != 0)
                    throw new InvalidOperationException($"setns into {netns} failed: {Marshal.GetLastPInvokeError()}");
                try
                {
                    result = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
                }
                finally
                {
                    if (setns((int)original.DangerousGetHandle(), CloneNewNet) != 0)
                        Environment.FailFast("cannot return to the original network namespace");
                }
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        t.Start();
        t.Join();
        return result ?? throw new InvalidOperationException("socket creation in namespace failed", error);
    }

    [LibraryImport("libc")]
    private static partial int gettid();

    private static int Gettid() => gettid();
}
