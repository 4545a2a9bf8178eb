using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

public static class RepeatLimitingLoggingBuilderExtensions
{
    /// <summary>
    /// Wraps every logger provider registered so far (call it after <c>AddConsole</c> and the
    /// formatter) in a <see cref="RepeatLimitingLoggerProvider"/>.
    /// </summary>
    public static ILoggingBuilder AddRepeatLimiting(this ILoggingBuilder builder, RepeatLimitOptions? options = null)
    {
        var services = builder.Services;
        var limits = options ?? new RepeatLimitOptions();
        for (var i = 0; i < services.Count; i++)
        {
            var d = services[i];
            if (d.ServiceType != typeof(ILoggerProvider) || d.IsKeyedService)
                continue;
            services[i] = ServiceDescriptor.Singleton<ILoggerProvider>(sp =>
                new RepeatLimitingLoggerProvider(LoggerProviders.Create(sp, d), limits, sp.GetService<TimeProvider>() ?? TimeProvider.System));
        }
        return builder;
    }
}
