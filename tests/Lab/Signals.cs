namespace Calico.Bgp.Lab;

/// <summary>Signal numbers for <see cref="LabProcess.Signal"/>, and kill(2) for processes a test started itself.</summary>
public static class Signals
{
    public const int Hup = Native.SigHup;
    public const int Kill = Native.SigKill;
    public const int Term = Native.SigTerm;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; true when delivered.</summary>
    public static bool Send(int pid, int signal) => Native.Kill(pid, signal) == 0;
}
