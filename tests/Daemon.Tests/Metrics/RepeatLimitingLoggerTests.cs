using Calico.Bgp.Daemon.Logging;
using Calico.Bgp.Daemon.Tests.Control;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Calico.Bgp.Daemon.Tests.Metrics;

/// <summary>Repeated log messages: a burst passes, the rest become one "… repeated N times" line per window.</summary>
public class RepeatLimitingLoggerTests
{
    private sealed class CaptureProvider : ILoggerProvider
    {
        public List<(string Category, LogLevel Level, string Message)> Lines { get; } = [];
        public bool Disposed { get; private set; }

        public ILogger CreateLogger(string categoryName) => new Capture(this, categoryName);

        public void Dispose() => Disposed = true;

        private sealed class Capture(CaptureProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.Lines)
                    owner.Lines.Add((category, logLevel, formatter(state, exception)));
            }
        }
    }

    private static (CaptureProvider Capture, RepeatLimitingLoggerProvider Provider, ManualTime Time) Build(int burst = 3)
    {
        var time = new ManualTime(ManualTime.At("10:00:00"));
        var capture = new CaptureProvider();
        var provider = new RepeatLimitingLoggerProvider(capture, new RepeatLimitOptions { Burst = burst, Interval = TimeSpan.FromSeconds(10) }, time);
        return (capture, provider, time);
    }

    [Fact]
    public void The_same_template_beyond_the_burst_is_summarised_when_the_window_ends()
    {
        var (capture, provider, time) = Build();
        var log = provider.CreateLogger("Calico.Bgp.Speaker.Mesh_10_0_0_2");
        for (var i = 0; i < 10; i++)
            log.LogWarning("Connection to {Peer} refused", $"10.0.0.{i}");
        Assert.Equal(3, capture.Lines.Count);
        Assert.Equal("Connection to 10.0.0.0 refused", capture.Lines[0].Message);

        time.Now = ManualTime.At("10:00:10");
        provider.Flush();
        Assert.Equal(4, capture.Lines.Count);
        Assert.Equal((LogLevel.Warning, "Connection to 10.0.0.9 refused … repeated 7 times (held back over 10 s)"), (capture.Lines[3].Level, capture.Lines[3].Message));

        // A fresh window lets a burst through again.
        log.LogWarning("Connection to {Peer} refused", "10.0.0.1");
        Assert.Equal(5, capture.Lines.Count);
        provider.Dispose();
        Assert.True(capture.Disposed);
    }

    [Fact]
    public void A_message_coming_back_after_the_window_first_reports_what_was_held()
    {
        var (capture, provider, time) = Build(burst: 1);
        var log = provider.CreateLogger("kernel");
        log.LogError("Route write failed: {Errno}", 101);
        log.LogError("Route write failed: {Errno}", 101);
        log.LogError("Route write failed: {Errno}", 101);
        time.Now = ManualTime.At("10:00:30");
        log.LogError("Route write failed: {Errno}", 17);
        Assert.Equal(["Route write failed: 101", "Route write failed: 101 … repeated 2 times (held back over 30 s)", "Route write failed: 17"], capture.Lines.Select(l => l.Message));
    }

    [Fact]
    public void Categories_and_templates_are_limited_apart_and_critical_always_passes()
    {
        var (capture, provider, _) = Build(burst: 1);
        var a = provider.CreateLogger("a");
        var b = provider.CreateLogger("b");
        a.LogInformation("one {X}", 1);
        a.LogInformation("one {X}", 2);
        b.LogInformation("one {X}", 3);
        a.LogInformation("two");
        a.LogCritical("fatal {X}", 1);
        a.LogCritical("fatal {X}", 2);
        Assert.Equal(["one 1", "one 3", "two", "fatal 1", "fatal 2"], capture.Lines.Select(l => l.Message));
        provider.Dispose();
        Assert.Equal("one 2 … repeated 1 times (held back over 0 s)", capture.Lines[^1].Message);
    }

    [Fact]
    public void A_structured_message_is_formatted_once_when_it_passes_and_once_more_only_when_held_back()
    {
        var (capture, provider, time) = Build(burst: 1);
        var log = provider.CreateLogger("Calico.Bgp.Protocol.Mesh_10_0_0_2");
        var formatted = 0;
        string Format(IReadOnlyList<KeyValuePair<string, object?>> state, Exception? _)
        {
            formatted++;
            return $"session with {state[0].Value} established";
        }
        IReadOnlyList<KeyValuePair<string, object?>> Established(string peer) =>
            [new("Peer", peer), new("{OriginalFormat}", "session with {Peer} established")];

        log.Log(LogLevel.Information, default, Established("10.0.0.2"), null, Format);
        // Passed: formatted by the provider that wrote it, not by the limiter as well.
        Assert.Equal(1, formatted);
        log.Log(LogLevel.Information, default, Established("10.0.0.3"), null, Format);
        // Held back: formatted for the summary, which quotes it.
        Assert.Equal(2, formatted);
        time.Now = ManualTime.At("10:00:10");
        provider.Flush();
        Assert.Equal(["session with 10.0.0.2 established", "session with 10.0.0.3 established … repeated 1 times (held back over 10 s)"], capture.Lines.Select(l => l.Message));
    }

    [Fact]
    public void Disabled_levels_are_neither_counted_nor_written()
    {
        var (capture, provider, time) = Build(burst: 1);
        var log = provider.CreateLogger("a");
        log.LogTrace("noise");
        log.LogTrace("noise");
        time.Now = ManualTime.At("10:01:00");
        provider.Flush();
        Assert.Empty(capture.Lines);
    }

    [Fact]
    public void AddRepeatLimiting_wraps_the_console_provider()
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddConsole().AddJsonConsole().AddRepeatLimiting());
        using var sp = services.BuildServiceProvider();
        var providers = sp.GetServices<ILoggerProvider>().ToList();
        Assert.Single(providers);
        Assert.IsType<RepeatLimitingLoggerProvider>(providers[0]);
        Assert.Contains(services, d => d.ServiceType == typeof(ILoggerProvider));
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider));
    }
}
