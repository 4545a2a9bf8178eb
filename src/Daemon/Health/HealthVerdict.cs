namespace Calico.Bgp.Daemon.Health;

/// <summary>A probe's answer and the reason, as the endpoint prints it.</summary>
public readonly record struct HealthVerdict(bool Healthy, string Reason)
{
    public static HealthVerdict Ok(string reason) => new(true, reason);

    public static HealthVerdict Fail(string reason) => new(false, reason);
}
