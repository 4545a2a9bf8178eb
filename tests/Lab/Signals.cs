namespace Calico.Bgp.Lab;

/// <summary>Signal numbers for <see cref="LabProcess.Signal"/>.</summary>
public static class Signals
{
    public const int Hup = Native.SigHup;
    public const int Kill = Native.SigKill;
    public const int Term = Native.SigTerm;
}
