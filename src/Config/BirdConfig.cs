using Calico.Bgp.Config.Filters;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config;

/// <summary><c>listen bgp [address A] [port N];</c>.</summary>
public sealed record ListenBgpConfig(IpAddr? Address, int Port = 179);

/// <summary>A named <c>filter NAME { … }</c>.</summary>
public sealed record FilterDefinition(string Name, SourceLocation Location, CompiledFilter Filter);

/// <summary>A parameter of a filter function.</summary>
public sealed record FunctionParameter(string Type, string Name);

/// <summary>A <c>function NAME(…) { … }</c>; <see cref="Text"/> is its normalised source (with the functions it calls).</summary>
public sealed record FunctionDefinition(string Name, SourceLocation Location, IReadOnlyList<FunctionParameter> Parameters, string Text);

/// <summary>A whole configuration as read from the main file and its includes.</summary>
public sealed record BirdConfig
{
    public uint? RouterId { get; init; }
    public ListenBgpConfig? ListenBgp { get; init; }
    /// <summary>In file order (includes expanded in place).</summary>
    public IReadOnlyList<ProtocolConfig> Protocols { get; init; } = [];
    public IReadOnlyDictionary<string, FilterDefinition> Filters { get; init; } = new Dictionary<string, FilterDefinition>();
    public IReadOnlyDictionary<string, FunctionDefinition> Functions { get; init; } = new Dictionary<string, FunctionDefinition>();
    /// <summary>The main file then every included file, as resolved (watch these for reload).</summary>
    public IReadOnlyList<string> Files { get; init; } = [];
    public bool Ipv6 { get; init; }
    /// <summary>Read with <see cref="ConfigLoadOptions.DualStack"/>: protocols of both families in one daemon.</summary>
    public bool DualStack { get; init; }

    /// <summary>The protocol called <paramref name="name"/>, or null.</summary>
    public ProtocolConfig? FindProtocol(string name) => Protocols.FirstOrDefault(p => p.Name == name);
}
