using Calico.Bgp.Daemon.Hosting;
using Calico.Bgp.Daemon.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Tests.Logging;

/// <summary>Protocol category loggers made from the providers under rules chosen once, and the factory's answer wherever a rule could tell them apart.</summary>
public class ProtocolCategoryLoggersTests
{
    private const string Mesh1 = ProtocolLogEvents.CategoryPrefix + "Mesh_10_0_0_1";
    private const string Mesh2 = ProtocolLogEvents.CategoryPrefix + "Mesh_10_0_0_2";

    private static readonly LogLevel[] Levels = [LogLevel.Trace, LogLevel.Debug, LogLevel.Information, LogLevel.Warning, LogLevel.Error, LogLevel.Critical];

    private sealed record Built(ServiceProvider Services, ScopeCaptureProvider Capture, ProtocolCategoryLoggers Loggers) : IDisposable
    {
        public ILoggerFactory Factory => Services.GetRequiredService<ILoggerFactory>();

        public void Dispose() => Services.Dispose();
    }

    private static Built Build(Action<ILoggingBuilder> rules)
    {
        var capture = new ScopeCaptureProvider();
        var services = new ServiceCollection()
            .AddLogging(b =>
            {
                b.AddProvider(capture);
                rules(b);
            })
            .AddSingleton<ProtocolCategoryLoggers>()
            .BuildServiceProvider();
        return new Built(services, capture, services.GetRequiredService<ProtocolCategoryLoggers>());
    }

    public static TheoryData<string> RuleSets => ["daemon", "quiet", "protocols-trace", "protocols-error", "microsoft"];

    private static void Apply(string set, ILoggingBuilder b)
    {
        switch (set)
        {
            case "daemon":
                b.SetMinimumLevel(LogLevel.Information).AddFilter("Microsoft", LogLevel.Warning).AddFilter(ProtocolCategoryLoggers.GateCategory, LogLevel.Trace);
                break;
            case "quiet":
                b.SetMinimumLevel(LogLevel.Warning);
                break;
            case "protocols-trace":
                b.SetMinimumLevel(LogLevel.Error).AddFilter("Calico.Bgp", LogLevel.Debug).AddFilter(ProtocolCategoryLoggers.GateCategory, LogLevel.Trace);
                break;
            case "protocols-error":
                b.SetMinimumLevel(LogLevel.Trace).AddFilter("calico.bgp.protocol", LogLevel.Error);
                break;
            case "microsoft":
                b.SetMinimumLevel(LogLevel.Debug).AddFilter("Microsoft", LogLevel.None).AddFilter("Calico.Bgp.Protocols", LogLevel.None);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(RuleSets))]
    public void Under_rules_that_cannot_tell_them_apart_a_logger_says_and_writes_what_the_factorys_would(string set)
    {
        using var built = Build(b => Apply(set, b));
        Assert.True(built.Loggers.Shared);
        var ours = built.Loggers.Create(Mesh1);
        var theirs = built.Factory.CreateLogger(Mesh1);
        Assert.NotSame(theirs.GetType(), ours.GetType());
        foreach (var level in Levels)
        {
            Assert.Equal(theirs.IsEnabled(level), ours.IsEnabled(level));
            ours.Log(level, new EventId(1), "ours", null, (s, _) => s);
            theirs.Log(level, new EventId(1), "theirs", null, (s, _) => s);
        }
        var written = built.Capture.Lines.Where(l => l.Category == Mesh1).ToList();
        Assert.Equal(written.Where(l => l.Message == "theirs").Select(l => l.Level), written.Where(l => l.Message == "ours").Select(l => l.Level));
        // Critical passes under every set: the comparison is never between two empty lists.
        Assert.Contains(written, l => l.Message == "ours");
    }

    [Fact]
    public void A_rule_for_one_protocol_sends_its_loggers_back_to_the_factory()
    {
        using var built = Build(b => b.SetMinimumLevel(LogLevel.Information).AddFilter(Mesh1, LogLevel.Error));
        Assert.False(built.Loggers.Shared);
        var one = built.Loggers.Create(Mesh1);
        var two = built.Loggers.Create(Mesh2);
        one.LogWarning("one warning");
        one.LogError("one error");
        two.LogWarning("two warning");
        Assert.Equal(["one error", "two warning"], built.Capture.Lines.Select(l => l.Message));
    }

    [Theory]
    [InlineData("Calico.Bgp.Protocol.", true)]
    [InlineData("Calico.Bgp.Protocol.Mesh*", true)]
    [InlineData("Calico.*.Mesh_10_0_0_1", true)]
    [InlineData("CALICO.BGP.PROTOCOL.MESH_10_0_0_1", true)]
    [InlineData("Calico.Bgp.Protocol", false)]
    [InlineData("Calico", false)]
    [InlineData("Calico.Bgp.ProtocolX", false)]
    public void Rules_under_the_prefix_or_with_a_wildcard_tell_the_categories_apart(string category, bool apart)
    {
        var options = new LoggerFilterOptions();
        options.Rules.Add(new LoggerFilterRule(null, category, LogLevel.Warning, null));
        Assert.Equal(!apart, ProtocolCategoryLoggers.RulesAgree(options));
    }

    [Fact]
    public void Rules_for_one_provider_or_with_a_filter_function_tell_them_apart()
    {
        var byProvider = new LoggerFilterOptions();
        byProvider.Rules.Add(new LoggerFilterRule("Console", null, LogLevel.Warning, null));
        Assert.False(ProtocolCategoryLoggers.RulesAgree(byProvider));
        var byFunction = new LoggerFilterOptions();
        byFunction.Rules.Add(new LoggerFilterRule(null, null, null, (_, category, _) => category != Mesh1));
        Assert.False(ProtocolCategoryLoggers.RulesAgree(byFunction));
    }

    [Fact]
    public void A_scope_begun_on_a_protocol_logger_reaches_the_providers()
    {
        using var built = Build(b => b.SetMinimumLevel(LogLevel.Information));
        var log = built.Loggers.Create(Mesh1);
        using (log.BeginScope("peer 10.0.0.1"))
            log.LogInformation("established");
        log.LogInformation("after");
        Assert.Equal([("established", "peer 10.0.0.1"), ("after", "")], built.Capture.Lines.Select(l => (l.Message, l.Scopes)));
    }

    [Fact]
    public void Other_categories_are_the_factorys()
    {
        using var built = Build(b => b.SetMinimumLevel(LogLevel.Information));
        Assert.Equal(built.Factory.CreateLogger("daemon").GetType(), built.Loggers.Create("daemon").GetType());
    }

    [Fact]
    public void The_daemons_own_logging_makes_protocol_loggers_without_the_factory()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        Program.ConfigureLogging(builder.Logging, CommandLineParser.Parse(["-d"], "bird", _ => null));
        using var host = builder.Build();
        var loggers = host.Services.GetRequiredService<ProtocolCategoryLoggers>();
        Assert.True(loggers.Shared);
        var factory = host.Services.GetRequiredService<ILoggerFactory>();
        Assert.NotEqual(factory.CreateLogger(Mesh1).GetType(), loggers.Create(Mesh1).GetType());
    }

    /// <summary>A provider that keeps every message with the scopes in force when it was written.</summary>
    private sealed class ScopeCaptureProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider? _scopes;

        public List<(string Category, LogLevel Level, string Message, string Scopes)> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Capture(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Capture(ScopeCaptureProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes?.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scopes = new List<string>();
                owner._scopes?.ForEachScope((s, list) => list.Add(s?.ToString() ?? ""), scopes);
                lock (owner.Lines)
                    owner.Lines.Add((category, logLevel, formatter(state, exception), string.Join("/", scopes)));
            }
        }
    }
}
