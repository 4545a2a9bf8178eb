namespace Calico.Bgp.Config;

/// <summary>A place in a configuration file: the path as given or resolved, 1-based line and column.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}
