using System.Diagnostics;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>
/// Real BIRD clients against our server: Debian's bird2 <c>birdc</c>/<c>birdcl</c> and BIRD 1.6's
/// <c>birdc</c>, printing what they print against BIRD itself (the transcripts' pretty/ folder).
/// </summary>
public class BirdClientInteropTests
{
    private const string Bird2Birdc = "/usr/sbin/birdc";
    private const string Bird2Birdcl = "/usr/sbin/birdcl";

    /// <summary>BIRD 1.6's birdc, unpacked in the repository's tools/ (found above the test binaries).</summary>
    private static string Bird16Birdc
    {
        get
        {
            const string Relative = "tools/bird1.6/usr/sbin/birdc";
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, Relative);
                if (File.Exists(candidate))
                    return candidate;
            }
            return Path.Combine("/work/main", Relative);
        }
    }

    public static TheoryData<string> Clients => new() { Bird2Birdc, Bird2Birdcl, "bird1.6-birdc" };

    private static (int Code, string Output) Run(string client, params string[] args)
    {
        var path = client == "bird1.6-birdc" ? Bird16Birdc : client;
        Assert.True(File.Exists(path), $"{path} is missing");
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync();
        Assert.True(p.WaitForExit(15000), $"{client} did not exit");
        return (p.ExitCode, output.Result);
    }

    private static string Pretty(string file) =>
        File.ReadAllText(Path.Combine(Transcript.Directory, "pretty", file));

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task Show_protocols_prints_as_against_bird(string client)
    {
        await using var f = ServerFixture.Start();
        var (code, output) = await Task.Run(() => Run(client, "-s", f.SocketPath, "show", "protocols"));
        Assert.Equal(0, code);
        Assert.Equal(Pretty("bird1.6-birdc-show-protocols.txt"), output);
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task Show_status_starts_with_BIRD_as_the_liveness_probe_needs(string client)
    {
        await using var f = ServerFixture.Start();
        f.Time.Now = ManualTime.At("11:04:57");
        f.Backend.LastReconfigured = ManualTime.At("11:04:56");
        var (code, output) = await Task.Run(() => Run(client, "-s", f.SocketPath, "show", "status"));
        Assert.Equal(0, code);
        Assert.StartsWith("BIRD", output, StringComparison.Ordinal);
        Assert.Equal(Pretty("bird1.6-birdc-show-status.txt"), output);
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task Show_protocols_all_prints_as_against_bird(string client)
    {
        await using var f = ServerFixture.Start();
        var (_, output) = await Task.Run(() => Run(client, "-s", f.SocketPath, "show", "protocols", "all", "Mesh_10_99_0_1"));
        var expected = Pretty("bird1.6-birdc-show-protocols-all-Mesh_10_99_0_1.txt");
        static string Mask(string s) => System.Text.RegularExpressions.Regex.Replace(s, @"(timer: +)\d+/\d+", "$1N/N");
        Assert.Equal(Mask(expected), Mask(output));
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task Route_count_and_not_in_table_print_as_against_bird(string client)
    {
        await using var f = ServerFixture.Start();
        Assert.Equal(Pretty("bird1.6-birdc-show-route-count.txt"), (await Task.Run(() => Run(client, "-s", f.SocketPath, "show", "route", "count"))).Output);
        Assert.Equal(Pretty("bird1.6-birdc-show-route-not-in-table.txt"), (await Task.Run(() => Run(client, "-s", f.SocketPath, "show", "route", "for", "192.0.2.1"))).Output);
    }

    [Fact]
    public async Task Bird2_clients_exit_1_on_an_error_reply_as_they_do_against_bird()
    {
        await using var f = ServerFixture.Start();
        var (code, output) = await Task.Run(() => Run(Bird2Birdcl, "-s", f.SocketPath, "-r", "configure"));
        Assert.Equal(1, code);
        Assert.Equal("BIRD 1.6.8 ready.\nAccess restricted\nAccess denied\n", output);
    }
}
