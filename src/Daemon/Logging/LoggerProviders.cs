using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>Builds the provider a registration describes, for the wrappers that replace registrations.</summary>
internal static class LoggerProviders
{
    public static ILoggerProvider Create(IServiceProvider sp, ServiceDescriptor d) =>
        d.ImplementationInstance as ILoggerProvider
        ?? d.ImplementationFactory?.Invoke(sp) as ILoggerProvider
        ?? (ILoggerProvider)ActivatorUtilities.CreateInstance(sp, d.ImplementationType!);
}
