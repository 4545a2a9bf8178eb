namespace Calico.Bgp.Config.Tests;

public class CorpusTests
{
    [Theory]
    [MemberData(nameof(Corpus.MainFiles), MemberType = typeof(Corpus))]
    public void Every_confd_config_loads(string relative)
    {
        var path = Corpus.Path_(relative);
        var ipv6 = Path.GetFileName(path) == "bird6.cfg";
        var config = ConfigLoader.Load(path, new ConfigLoadOptions { Ipv6 = ipv6 });
        Assert.Equal(ipv6, config.Ipv6);
        Assert.NotNull(config.RouterId);
        Assert.Equal(path, config.Files[0]);
        Assert.Contains(config.Protocols, p => p is KernelProtocolConfig);
        Assert.Contains(config.Protocols, p => p is DeviceProtocolConfig);
    }
}
