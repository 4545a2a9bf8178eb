using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>Prefix numbers as a table hands them out (dense, in arrival order), for Adj-RIB-Out tests without a table.</summary>
internal sealed class PrefixNumbers
{
    private readonly Dictionary<Prefix, int> _numbers = [];

    public int Of(Prefix prefix)
    {
        if (!_numbers.TryGetValue(prefix, out var n))
            _numbers[prefix] = n = _numbers.Count;
        return n;
    }
}
