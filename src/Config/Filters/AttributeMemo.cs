using System.Runtime.CompilerServices;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Filters;

/// <summary>
/// The attribute sets recent runs built, so a run that writes the same values over the same set
/// as an earlier one gets the interned result without building a set to look it up with. Routes
/// mostly share interned sets (all routes of a peer, all static blocks), so the filter's output is
/// the same handful of sets again and again.
/// </summary>
/// <remarks>
/// An entry is (cache, input set by reference, interned result); it is a hit when the draft's values
/// equal the result's, the rest of the result being the input's by construction. The entry holds
/// its result strongly, and <see cref="AttributeCache"/> forgets only sets nobody holds, so a result
/// found here is still the cache's own object: the same one <see cref="AttributeCache.Intern"/> would
/// return. Direct-mapped and per thread (it lives in the thread's <see cref="FilterState"/>): a few KB,
/// keeping at most <see cref="Size"/> input/result pairs alive.
/// </remarks>
internal sealed class AttributeMemo
{
    public const int Size = 256;

    private readonly Entry[] _entries = new Entry[Size];

    /// <summary>The interned set equal to <paramref name="input"/> with <paramref name="draft"/> applied.</summary>
    public PathAttributes Resolve(AttributeCache cache, PathAttributes input, AttributeDraft draft)
    {
        var hash = HashCode.Combine(RuntimeHelpers.GetHashCode(input), RuntimeHelpers.GetHashCode(cache), draft.Hash());
        ref var e = ref _entries[hash & (Size - 1)];
        if (e.Hash == hash && ReferenceEquals(e.Input, input) && ReferenceEquals(e.Cache, cache) && draft.Matches(e.Result!))
            return e.Result!;
        var result = cache.Intern(draft.ApplyTo(input));
        e = new Entry(hash, cache, input, result);
        return result;
    }

    private readonly record struct Entry(int Hash, AttributeCache? Cache, PathAttributes? Input, PathAttributes? Result);
}
