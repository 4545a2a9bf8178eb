namespace Calico.Bgp.Daemon.Hosting;

/// <summary>The daemon cannot start (bad config, socket in use, …); the message is shown to the operator.</summary>
public sealed class DaemonStartException(string message, Exception? inner = null) : Exception(message, inner);
