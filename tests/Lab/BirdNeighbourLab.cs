namespace Calico.Bgp.Lab;

/// <summary>
/// The lab most daemon tests start from: our daemon on host <c>a</c> and BIRD 2 on host <c>b</c>,
/// joined as 10.0.0.1/24 – 10.0.0.2/24, and when asked a third host <c>c</c> on a second link of
/// <c>a</c> (10.0.1.1/24 – 10.0.1.2/24) for a peer the test drives itself. Disposing it disposes
/// the lab (processes stopped, namespaces deleted), also when the start failed half-way.
/// </summary>
public sealed class BirdNeighbourLab : IAsyncDisposable
{
    private BirdNeighbourLab(TestLab lab, LabHost a, LabHost b, LabHost? c)
    {
        Lab = lab;
        A = a;
        B = b;
        _c = c;
    }

    private readonly LabHost? _c;

    public TestLab Lab { get; }
    /// <summary>Our daemon's host.</summary>
    public LabHost A { get; }
    /// <summary>BIRD 2's host.</summary>
    public LabHost B { get; }
    /// <summary>The third host, for labs started with one.</summary>
    public LabHost C => _c ?? throw new InvalidOperationException("This lab was started without host c.");
    public BirdPeer Bird { get; private set; } = null!;
    public OurDaemon Ours { get; private set; } = null!;

    /// <summary>
    /// Creates the hosts and links and starts BIRD 2 with <paramref name="birdConfig"/>, then ours
    /// with <paramref name="ourConfig"/> and <paramref name="ourArgs"/> (or ours first, when
    /// <paramref name="oursFirst"/>: ours is then up before BIRD 2 sends it anything).
    /// </summary>
    public static async Task<BirdNeighbourLab> StartAsync(string name, string ourConfig, string birdConfig,
        bool withC = false, bool oursFirst = false, params string[] ourArgs)
    {
        var lab = await TestLab.CreateAsync(name).ConfigureAwait(false);
        try
        {
            var a = await lab.AddHostAsync("a").ConfigureAwait(false);
            var b = await lab.AddHostAsync("b").ConfigureAwait(false);
            var c = withC ? await lab.AddHostAsync("c").ConfigureAwait(false) : null;
            await lab.ConnectAsync(a, "10.0.0.1/24", b, "10.0.0.2/24").ConfigureAwait(false);
            if (c is not null)
                await lab.ConnectAsync(a, "10.0.1.1/24", c, "10.0.1.2/24").ConfigureAwait(false);
            var l = new BirdNeighbourLab(lab, a, b, c);
            if (oursFirst)
                l.Ours = await OurDaemon.StartAsync(a, ourConfig, ourArgs).ConfigureAwait(false);
            l.Bird = await BirdPeer.StartBird2Async(b, birdConfig).ConfigureAwait(false);
            if (!oursFirst)
                l.Ours = await OurDaemon.StartAsync(a, ourConfig, ourArgs).ConfigureAwait(false);
            return l;
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>What our daemon answers to each of <paramref name="commands"/>, then the lab's diagnostics: a failed wait's description.</summary>
    public async Task<string> DescribeAsync(params string[] commands)
    {
        var text = "";
        foreach (var command in commands)
            text += await Ours.CommandAsync(command).ConfigureAwait(false);
        return text + Lab.Diagnostics();
    }

    public ValueTask DisposeAsync() => Lab.DisposeAsync();
}
