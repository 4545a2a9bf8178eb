using System.Runtime.CompilerServices;

// The table's prefix map is internal; its tests drive it directly (insert, remove, rebuild, readers during a rebuild).
[assembly: InternalsVisibleTo("Calico.Bgp.Rib.Tests")]
