namespace Calico.Bgp.Lab;

/// <summary>Where the programs the lab runs are: ours (built from this repo) and the reference peers.</summary>
public static class LabTools
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The repository root (the folder holding Calico.Bgp.sln).</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>Debug or Release, whichever this test assembly was built as.</summary>
    public static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>
    /// Our daemon's apphost, built by the solution build; <c>CALICO_BGPD</c> points the lab at another
    /// build of it instead (the Native AOT binary the image ships: tools/check-image.sh runs tests so).
    /// </summary>
    public static string Daemon => Override("CALICO_BGPD") ?? Built("src/Daemon", "calico-bgpd");

    /// <summary>Our client's apphost, or <c>CALICO_BGPC</c>.</summary>
    public static string Client => Override("CALICO_BGPC") ?? Built("src/Cli", "calico-bgpc");

    public static string Bird2 => Require("/usr/sbin/bird", "apt-get install bird2");
    public static string Bird2Client => Require("/usr/sbin/birdc", "apt-get install bird2");

    /// <summary>BIRD 1.6, unpacked by tools/fetch-bird16.sh (it conflicts with the bird2 package).</summary>
    public static string Bird16Dir => Environment.GetEnvironmentVariable("BIRD16_DIR") ?? Path.Combine(RepoRoot, "tools", "bird1.6");
    public static string Bird16 => Require(Path.Combine(Bird16Dir, "usr/sbin/bird"), "tools/fetch-bird16.sh");
    public static string Bird16Client => Require(Path.Combine(Bird16Dir, "usr/sbin/birdc"), "tools/fetch-bird16.sh");

    public static string Gobgpd => Require("/usr/bin/gobgpd", "apt-get install gobgpd");
    public static string Gobgp => Require("/usr/bin/gobgp", "apt-get install gobgpd");
    public static string FrrBgpd => Require("/usr/lib/frr/bgpd", "apt-get install frr");
    public static string FrrZebra => Require("/usr/lib/frr/zebra", "apt-get install frr");

    /// <summary>../shared next to the repository (read-only reference material).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    private static string Built(string project, string name)
    {
        var path = Path.Combine(RepoRoot, project, "bin", Configuration, "net10.0", name);
        return Require(path, $"dotnet build (of {project})");
    }

    private static string? Override(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } path
            ? Require(Path.GetFullPath(path), $"the build {variable} names")
            : null;

    /// <summary>Fails with the install step to take, never skips: a missing tool is a broken setup.</summary>
    private static string Require(string path, string howToGetIt) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing; {howToGetIt} provides it (.ci/run does this)", path);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Calico.Bgp.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("cannot find Calico.Bgp.sln above " + AppContext.BaseDirectory);
    }
}
