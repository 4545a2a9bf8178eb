using System.Collections.Concurrent;

namespace Calico.Bgp.Rib;

/// <summary>
/// Interns <see cref="PathAttributes"/> (BIRD's attribute cache): identical sets become one object,
/// so a million routes that share attributes share a handful of objects and compare by reference.
/// Safe for concurrent use; sessions intern while parsing, off the table's writer.
/// </summary>
public sealed class AttributeCache
{
    private readonly ConcurrentDictionary<PathAttributes, PathAttributes> _sets = new();

    public int Count => _sets.Count;

    public PathAttributes Intern(PathAttributes attributes) =>
        _sets.TryGetValue(attributes, out var existing) ? existing : _sets.GetOrAdd(attributes, attributes);
}
