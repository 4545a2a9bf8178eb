using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

public static class ProtocolDebugLoggingBuilderExtensions
{
    /// <summary>
    /// Lets protocol categories through the minimum level and wraps every logger provider registered
    /// so far in a <see cref="ProtocolDebugLoggerProvider"/> over <paramref name="debug"/> (call it
    /// last, so a Debug message switched off is not counted by the repeat limiter either), and registers
    /// the <see cref="ProtocolCategoryLoggers"/> the protocols' category loggers are made by.
    /// </summary>
    public static ILoggingBuilder AddProtocolDebug(this ILoggingBuilder builder, ProtocolDebugSwitch debug)
    {
        // The switch decides for protocol categories, whatever -d says for the rest.
        builder.AddFilter(ProtocolLogEvents.CategoryPrefix.TrimEnd('.'), LogLevel.Trace);
        var services = builder.Services;
        services.AddSingleton(debug);
        services.AddSingleton<ProtocolCategoryLoggers>();
        for (var i = 0; i < services.Count; i++)
        {
            var d = services[i];
            if (d.ServiceType != typeof(ILoggerProvider) || d.IsKeyedService)
                continue;
            services[i] = ServiceDescriptor.Singleton<ILoggerProvider>(sp => new ProtocolDebugLoggerProvider(LoggerProviders.Create(sp, d), debug));
        }
        return builder;
    }
}
