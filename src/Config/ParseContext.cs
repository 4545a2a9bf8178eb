using Calico.Bgp.Config.Filters;

namespace Calico.Bgp.Config;

/// <summary>State shared by the parsers of the main file and its includes.</summary>
internal sealed class ParseContext(ConfigLoadOptions options)
{
    public ConfigLoadOptions Options { get; } = options;
    public bool Ipv6 => Options.Ipv6 && !Options.DualStack;
    public bool DualStack => Options.DualStack;
    public List<string> Files { get; } = [];
    /// <summary>Full paths of the files being read, innermost last (include loop detection).</summary>
    public List<string> IncludeStack { get; } = [];
    public uint? RouterId { get; set; }
    public ListenBgpConfig? ListenBgp { get; set; }
    public List<ProtocolConfig> Protocols { get; } = [];
    public Dictionary<string, ProtocolConfig> Templates { get; } = [];
    public Dictionary<string, FilterDefinition> Filters { get; } = [];
    public Dictionary<string, FunctionSymbol> Functions { get; } = [];
    /// <summary>BIRD has one namespace for protocols, templates, filters and functions.</summary>
    public Dictionary<string, (string Kind, SourceLocation Location)> Symbols { get; } = [];
    public Dictionary<string, int> AutoNameCounters { get; } = [];

    public void Define(string name, string kind, SourceLocation location)
    {
        if (Symbols.TryGetValue(name, out var existing))
            throw new ConfigException(location, $"symbol '{name}' is already defined (as {existing.Kind} at {existing.Location})");
        Symbols[name] = (kind, location);
    }
}
