using System.Text;
using System.Text.RegularExpressions;
using Calico.Bgp.Config;
using Calico.Bgp.Config.Filters;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fuzz;

/// <summary>
/// Config text through <c>ConfigLoader.Parse</c> (lexer, parser, templates, filter compiler), then
/// every compiled filter run over a static and a BGP route, as import and export run them.
/// <see cref="ConfigException"/> is the documented answer to bad text and a filter's runtime
/// error is a <see cref="FilterResult.Error"/>; anything else thrown is a finding.
/// </summary>
internal static partial class ConfigTarget
{
    /// <summary>
    /// The file name the text is parsed as: a directory with no files, so a relative
    /// <c>include</c> finds nothing instead of reading the machine's files.
    /// </summary>
    private static readonly string FileName = Path.Combine(Directory.CreateTempSubdirectory("calico-bgp-fuzz-").FullName, "bird.cfg");

    private static readonly AttributeCache Cache = new();
    private static readonly FuzzProtocol Static = new("static1");
    private static readonly FuzzProtocol Peer = new("Mesh_10_0_0_2");

    private static readonly Route[] Routes =
    [
        Route.Create(Prefix.Parse("10.233.89.0/26"), new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole }, Static, preference: 200),
        Route.Create(Prefix.Parse("10.233.68.0/26"), new PathAttributes
        {
            Source = RouteSource.Bgp,
            Dest = RouteDest.Router,
            Gateway = IpAddr.Parse("10.0.0.2"),
            NextHop = IpAddr.Parse("10.0.0.2"),
            LocalPref = 100,
            AsPath = AsPath.Empty,
            Origin = BgpOrigin.Igp,
        }, Peer, preference: 100),
    ];

    public static void Run(ReadOnlySpan<byte> input)
    {
        var text = Encoding.UTF8.GetString(input);
        // An include naming a path would read this machine's files (/dev/zero never ends): not a parser input.
        if (IncludePath().IsMatch(text))
            return;
        BirdConfig config;
        try
        {
            config = ConfigLoader.Parse(text, FileName);
        }
        catch (ConfigException e)
        {
            _ = e.Location.ToString();
            return;
        }
        foreach (var filter in config.Filters.Values)
            Evaluate(filter.Filter);
        foreach (var p in config.Protocols)
        {
            _ = p.ToString();
            _ = p.Equals(p with { }) && p.GetHashCode() != 0;
            Evaluate(p.ImportFilter);
            Evaluate(p.ExportFilter);
        }
    }

    private static void Evaluate(RouteFilter filter)
    {
        foreach (var route in Routes)
        {
            if (filter is CompiledFilter compiled)
                _ = compiled.Evaluate(route, Cache).Error;
            else
                _ = filter.Apply(route, Cache);
        }
    }

    [GeneratedRegex(@"include\s*""[^""]*[/\\]")]
    private static partial Regex IncludePath();
}
