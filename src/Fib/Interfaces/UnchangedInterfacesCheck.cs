using System.Text;
using Calico.Bgp.Fib.Netlink;

namespace Calico.Bgp.Fib.Interfaces;

/// <summary>
/// Compares an interface dump with a snapshot as it is read, field by field and without allocating:
/// whether <see cref="InterfaceSnapshot.LoadAsync"/> would build the same snapshot (same interfaces,
/// names, kinds, flags and MTUs; the same addresses in the same order on each up interface). Any
/// doubt (a dump interrupted, a name it cannot compare in place) counts as a change, which costs a
/// full read, never a missed change. One scan at a time; reused from scan to scan.
/// </summary>
public sealed class UnchangedInterfacesCheck : IInterfaceDumpSink
{
    // Interface names are at most 15 bytes (IFNAMSIZ), kinds a few more.
    private const int MaxText = 64;

    private InterfaceSnapshot _against = InterfaceSnapshot.Empty;
    // Per place in the snapshot: whether the dump had the link, and how many of its addresses came.
    private bool[] _seen = [];
    private int[] _addresses = [];
    private int _links;
    private bool _changed;

    /// <summary>Starts comparing a dump with <paramref name="snapshot"/>.</summary>
    public void Begin(InterfaceSnapshot snapshot)
    {
        _against = snapshot;
        var n = snapshot.Interfaces.Length;
        if (_seen.Length < n)
        {
            _seen = new bool[n];
            _addresses = new int[n];
        }
        else
        {
            Array.Clear(_seen, 0, n);
            Array.Clear(_addresses, 0, n);
        }
        _links = 0;
        _changed = false;
    }

    /// <summary>After the dump: true when it matched the snapshot in everything the snapshot holds.</summary>
    public bool Unchanged()
    {
        var interfaces = _against.Interfaces;
        if (_changed || _links != interfaces.Length)
            return false;
        for (var i = 0; i < interfaces.Length; i++)
        {
            // An address gone from an up interface; a down one keeps none (see LoadAsync).
            if (_addresses[i] != interfaces[i].Addresses.Length)
                return false;
        }
        return true;
    }

    public void OnLink(in LinkFields link)
    {
        if (_changed)
            return;
        var i = _against.PositionOf(link.Index);
        if (i < 0 || _seen[i])
        {
            _changed = true;
            return;
        }
        _seen[i] = true;
        _links++;
        var s = _against.Interfaces[i];
        if (s.Flags != link.Flags || s.Mtu != link.Mtu || !SameText(link.Name, s.Name) || !SameText(link.Kind, s.Kind))
            _changed = true;
    }

    public void OnAddress(in AddressFields address)
    {
        if (_changed)
            return;
        var i = _against.PositionOf(address.InterfaceIndex);
        // An address of a link the link dump did not list is left out, as LoadAsync leaves it out.
        if (i < 0 || !_seen[i])
            return;
        var s = _against.Interfaces[i];
        if (!s.IsUp)
            return;
        var n = _addresses[i];
        if (n >= s.Addresses.Length || !s.Addresses[n].Matches(address))
        {
            _changed = true;
            return;
        }
        _addresses[i] = n + 1;
    }

    public void Restart() => _changed = true;

    /// <summary>Whether UTF-8 <paramref name="utf8"/> decodes to <paramref name="text"/>, as <see cref="LinkMessage.TryParse"/> would decode it.</summary>
    private static bool SameText(ReadOnlySpan<byte> utf8, string text)
    {
        if (utf8.Length > MaxText)
            return false;
        Span<char> chars = stackalloc char[MaxText];
        return Encoding.UTF8.TryGetChars(utf8, chars, out var n) && chars[..n].SequenceEqual(text);
    }
}
