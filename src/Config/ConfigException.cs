namespace Calico.Bgp.Config;

/// <summary>
/// A configuration error. <see cref="Exception.Message"/> reads <c>file:line:col: message</c>,
/// the form BIRD logs on a failed reconfiguration, so the daemon can log it as it is.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(SourceLocation location, string reason)
        : base($"{location}: {reason}")
    {
        Location = location;
        Reason = reason;
    }

    public SourceLocation Location { get; }

    /// <summary>The message without the location prefix.</summary>
    public string Reason { get; }
}
