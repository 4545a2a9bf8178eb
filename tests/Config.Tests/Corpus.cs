namespace Calico.Bgp.Config.Tests;

/// <summary>Locates /work/shared/calico-bird-configs relative to the repository root.</summary>
internal static class Corpus
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Calico.Bgp.sln")))
            dir = dir.Parent;
        if (dir is null)
            throw new InvalidOperationException("Calico.Bgp.sln not found above " + AppContext.BaseDirectory);
        return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "calico-bird-configs"));
    }

    public static string Path_(string relative) => Path.Combine(Root, relative);

    public static IEnumerable<object[]> MainFiles() =>
        Directory.EnumerateFiles(Root, "bird*.cfg", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is "bird.cfg" or "bird6.cfg")
            .Select(f => Path.GetRelativePath(Root, f))
            .Order(StringComparer.Ordinal)
            .Select(f => new object[] { f });
}
