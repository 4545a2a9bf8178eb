using System.Runtime.CompilerServices;

namespace Calico.Bgp.Config.Filters;

/// <summary>
/// <c>.add</c> and <c>.delete</c> on community lists without a new array per route. A filter edits
/// the list of a route's interned attribute set, and the routes of one peer share a handful of sets,
/// so the same (list, community) edit repeats route after route: a small per-thread memo keyed by
/// the input array's identity and the community returns the array made the first time. The result
/// is never written to afterwards (lists are immutable once made), so sharing it is safe.
/// </summary>
internal static class ListEdits
{
    public static T[] Add<T>(T[] list, T item) where T : struct, IEquatable<T> =>
        Array.IndexOf(list, item) >= 0 ? list : Memo<T>.Adds.Get(list, item, static (l, c) => [.. l, c]);

    public static T[] Delete<T>(T[] list, T item) where T : struct, IEquatable<T> =>
        Array.IndexOf(list, item) < 0 ? list : Memo<T>.Deletes.Get(list, item, static (l, c) => Array.FindAll(l, x => !x.Equals(c)));

    /// <summary>A direct-mapped cache of recent edits, one per thread and kind of edit.</summary>
    private sealed class Memo<T> where T : struct, IEquatable<T>
    {
        private const int Size = 64;

        [ThreadStatic]
        private static Memo<T>? _adds;

        [ThreadStatic]
        private static Memo<T>? _deletes;

        private readonly (T[]? List, T Item, T[] Result)[] _entries = new (T[]?, T, T[])[Size];

        public static Memo<T> Adds => _adds ??= new();
        public static Memo<T> Deletes => _deletes ??= new();

        public T[] Get(T[] list, T item, Func<T[], T, T[]> edit)
        {
            var i = (int)((uint)HashCode.Combine(RuntimeHelpers.GetHashCode(list), item) % Size);
            ref var e = ref _entries[i];
            if (ReferenceEquals(e.List, list) && e.Item.Equals(item))
                return e.Result;
            var result = edit(list, item);
            e = (list, item, result);
            return result;
        }
    }
}
