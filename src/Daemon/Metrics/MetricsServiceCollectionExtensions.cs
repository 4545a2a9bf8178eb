using Calico.Bgp.Daemon.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>Registers the metrics and health listener with the host.</summary>
public static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// With an <paramref name="endpoint"/> (<c>--metrics ADDR:PORT</c>), serves <c>/metrics</c>,
    /// <c>/livez</c> and <c>/readyz</c> there, reading the daemon through <typeparamref name="TSource"/>
    /// (already registered). The <see cref="LivenessMonitor"/> is registered either way, so the host
    /// can take it and register its loops' heartbeats.
    /// </summary>
    public static IServiceCollection AddMetricsEndpoint<TSource>(this IServiceCollection services, string? endpoint, HealthOptions? options = null)
        where TSource : class, IMetricsSource
    {
        services.AddSingleton(sp => new LivenessMonitor(sp.GetRequiredService<TimeProvider>()));
        if (endpoint is null)
            return services;
        services.AddSingleton(options ?? new HealthOptions());
        services.AddSingleton(sp => new DaemonMetrics(sp.GetRequiredService<TSource>(), sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService(sp => new MetricsServer(
            endpoint,
            sp.GetRequiredService<DaemonMetrics>(),
            sp.GetRequiredService<TSource>(),
            sp.GetRequiredService<LivenessMonitor>(),
            sp.GetRequiredService<HealthOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        return services;
    }
}
