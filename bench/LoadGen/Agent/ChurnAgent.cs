using System.Diagnostics;
using Calico.Bgp.Rib;

namespace Calico.Bgp.LoadGen.Agent;

/// <summary>
/// P4: one route-reflector client announces new /32s at a fixed rate (one UPDATE each, as workloads
/// come and go one by one) and withdraws each one a second later; M other clients record when each
/// announcement and withdrawal reaches them. Latency = receipt − send, per prefix per monitor, where
/// receipt is the kernel's stamp on the monitor's socket (<see cref="KernelReceiveStamp"/>).
/// </summary>
public static class ChurnAgent
{
    private const double WithdrawAfter = 1.0;
    private const double TickSeconds = 0.01;
    private static readonly uint ChurnBase = UpdateStreams.V4Base("10.192.0.0");

    public static async Task<Dictionary<string, object?>> RunAsync(AgentHost h)
    {
        var rate = h.Int("rate", 1000);
        var seconds = h.Int("seconds", 60);
        var monitors = h.Int("monitors", 10);
        var total = rate * seconds;
        var speakers = await h.ConnectAsync(0, monitors + 1, false, _ => Topology.DutAs, true, i => new PrefixCounter(0, trackTimes: i > 0), TimeSpan.FromMinutes(2)).ConfigureAwait(false);
        var churner = speakers[0];
        var attrs = UpdateStreams.Attributes(churner, false);
        var prefixes = new Prefix[total];
        var announce = new byte[total][];
        var withdraw = new byte[total][];
        for (var j = 0; j < total; j++)
        {
            prefixes[j] = UpdateStreams.V4(ChurnBase, j, 32);
            announce[j] = UpdateStreams.AnnounceOneEach(churner, attrs, prefixes[j]);
            withdraw[j] = UpdateStreams.WithdrawOneEach(churner, prefixes[j]);
        }
        var announcedAt = new long[total];
        var withdrawnAt = new long[total];
        h.ReadyAndWaitForGo();
        // A dedicated thread paces the sends: timers on the thread pool drift by milliseconds.
        var pacer = new Thread(() => Pace(h, churner, rate, total, announce, withdraw, announcedAt, withdrawnAt)) { IsBackground = true, Name = "churn pacer" };
        pacer.Start();
        await Task.Run(pacer.Join).ConfigureAwait(false);
        var mons = speakers.Skip(1).ToList();
        await h.WaitAsync(() => mons.All(m => m.Counter.WithdrawnAt.Count >= total), TimeSpan.FromSeconds(20), everyMs: 50).ConfigureAwait(false);
        var keys = prefixes.Select(p => Key(p)).ToArray();
        var annLat = new List<double>();
        var wdrLat = new List<double>();
        var missing = 0;
        foreach (var m in mons)
        {
            // The first second is warm-up (first sends through fresh code paths on both sides).
            for (var j = Math.Min(rate, total / 2); j < total; j++)
            {
                if (m.Counter.AnnouncedAt.TryGetValue(keys[j], out var a))
                    annLat.Add(Stopwatch.GetElapsedTime(announcedAt[j], a).TotalMilliseconds);
                else
                    missing++;
                if (m.Counter.WithdrawnAt.TryGetValue(keys[j], out var w))
                    wdrLat.Add(Stopwatch.GetElapsedTime(withdrawnAt[j], w).TotalMilliseconds);
            }
        }
        if (h.Str("trace") is { } trace)
            WriteTrace(trace, mons, keys, announcedAt, withdrawnAt);
        annLat.Sort();
        wdrLat.Sort();
        // A receipt stamped before its send would be the clocks misread, not a fast DUT.
        if ((annLat.Count > 0 && annLat[0] < 0) || (wdrLat.Count > 0 && wdrLat[0] < 0))
            throw new InvalidOperationException($"a receipt stamped before its send ({Math.Min(annLat.FirstOrDefault(), wdrLat.FirstOrDefault()):F3} ms): the receive stamps' clock is off");
        var lags = new long[mons[0].ReadLags.Length];
        foreach (var m in mons)
        {
            for (var b = 0; b < lags.Length; b++)
                lags[b] += m.ReadLags[b];
        }
        var (lateAll, lateSome) = LateSpread(mons, keys, announcedAt, Math.Min(rate, total / 2), Percentile(annLat, 0.99) ?? 0);
        return new()
        {
            ["rate"] = rate,
            ["announced"] = total,
            ["monitors"] = monitors,
            ["missing"] = missing,
            ["p50ms"] = Percentile(annLat, 0.50),
            ["p99ms"] = Percentile(annLat, 0.99),
            ["maxms"] = annLat.Count > 0 ? annLat[^1] : null,
            ["withdrawP50ms"] = Percentile(wdrLat, 0.50),
            ["withdrawP99ms"] = Percentile(wdrLat, 0.99),
            ["sendSeconds"] = h.Elapsed,
            ["lateAllMonitors"] = lateAll,
            ["lateSomeMonitors"] = lateSome,
            ["cdf"] = Downsample(annLat, 400),
            ["readLagP50ms"] = HistogramPercentile(lags, 0.50),
            ["readLagP99ms"] = HistogramPercentile(lags, 0.99),
            ["replaced"] = mons.Sum(m => m.Counter.Replaced),
            ["reannounced"] = mons.Sum(m => m.Counter.Reannounced),
        };
    }

    private static void Pace(AgentHost h, BgpSpeaker s, int rate, int total, byte[][] announce, byte[][] withdraw, long[] announcedAt, long[] withdrawnAt)
    {
        var nextA = 0;
        var nextW = 0;
        var buffer = new MemoryStream();
        while (nextW < total)
        {
            // Prefix j is announced at j / rate seconds and withdrawn WithdrawAfter seconds later.
            var t = h.Elapsed;
            var due = Math.Min(total, (int)(t * rate) + 1);
            buffer.SetLength(0);
            var now = Stopwatch.GetTimestamp();
            for (; nextA < due; nextA++)
            {
                buffer.Write(announce[nextA]);
                announcedAt[nextA] = now;
            }
            var dueW = Math.Min(nextA, Math.Max(0, (int)((t - WithdrawAfter) * rate) + 1));
            for (; nextW < dueW; nextW++)
            {
                buffer.Write(withdraw[nextW]);
                withdrawnAt[nextW] = now;
            }
            if (buffer.Length > 0)
                s.SendAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length)).GetAwaiter().GetResult();
            Thread.Sleep(TimeSpan.FromSeconds(TickSeconds / 10));
        }
    }

    /// <summary>
    /// Of the prefixes whose announcement is later than the p99 at some monitor: how many were that
    /// late at every monitor (held before the DUT's fan-out: its import, or the DUT not running at
    /// all) and how many at only some (one session's writer, or the generator's own receive loops).
    /// </summary>
    private static (int All, int Some) LateSpread(List<BgpSpeaker> mons, ulong[] keys, long[] announcedAt, int from, double p99)
    {
        int all = 0, some = 0;
        for (var j = from; j < keys.Length; j++)
        {
            var late = 0;
            foreach (var m in mons)
            {
                if (m.Counter.AnnouncedAt.TryGetValue(keys[j], out var a) && Stopwatch.GetElapsedTime(announcedAt[j], a).TotalMilliseconds > p99)
                    late++;
            }
            if (late == mons.Count)
                all++;
            else if (late > 0)
                some++;
        }
        return (all, some);
    }

    /// <summary>
    /// One line per prefix: its index, when it was sent (Stopwatch ticks, i.e. CLOCK_MONOTONIC ns on
    /// Linux, to line up with the DUT's own timestamps), then its announcement's and withdrawal's
    /// latency in ms at each monitor (empty: never received). Which prefixes are late, and whether
    /// at every monitor or a few, tells the DUT's import path from its fan-out and the generator's own receive path.
    /// </summary>
    private static void WriteTrace(string prefix, List<BgpSpeaker> mons, ulong[] keys, long[] announcedAt, long[] withdrawnAt)
    {
        var path = $"{prefix}-{DateTime.UtcNow:HHmmss}.csv";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var w = new StreamWriter(path);
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        w.Write("prefix,sentTicks,withdrawnTicks");
        for (var m = 0; m < mons.Count; m++)
            w.Write(string.Create(ci, $",a{m}"));
        for (var m = 0; m < mons.Count; m++)
            w.Write(string.Create(ci, $",w{m}"));
        w.WriteLine();
        for (var j = 0; j < keys.Length; j++)
        {
            w.Write(string.Create(ci, $"{j},{announcedAt[j]},{withdrawnAt[j]}"));
            foreach (var m in mons)
                w.Write(m.Counter.AnnouncedAt.TryGetValue(keys[j], out var a) ? string.Create(ci, $",{Stopwatch.GetElapsedTime(announcedAt[j], a).TotalMilliseconds:F3}") : ",");
            foreach (var m in mons)
                w.Write(m.Counter.WithdrawnAt.TryGetValue(keys[j], out var a) ? string.Create(ci, $",{Stopwatch.GetElapsedTime(withdrawnAt[j], a).TotalMilliseconds:F3}") : ",");
            w.WriteLine();
        }
    }

    private static ulong Key(Prefix p)
    {
        Span<byte> b = stackalloc byte[16];
        p.Address.WriteBytes(b);
        return PrefixCounter.Key(b[..4], p.Length);
    }

    private static double? Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? null : sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];

    /// <summary>The upper edge of the bucket holding quantile <paramref name="q"/> of a <see cref="BgpSpeaker.ReadLags"/> histogram, in ms.</summary>
    private static double? HistogramPercentile(long[] buckets, double q)
    {
        var total = buckets.Sum();
        if (total == 0)
            return null;
        var rank = (long)(q * total);
        long seen = 0;
        for (var b = 0; b < buckets.Length; b++)
        {
            seen += buckets[b];
            if (seen > rank)
                return (b + 1) * BgpSpeaker.ReadLagBucketMicroseconds / 1000.0;
        }
        return buckets.Length * BgpSpeaker.ReadLagBucketMicroseconds / 1000.0;
    }

    private static List<double> Downsample(List<double> sorted, int points)
    {
        if (sorted.Count <= points)
            return sorted;
        return [.. Enumerable.Range(0, points).Select(i => sorted[(int)((long)i * (sorted.Count - 1) / (points - 1))])];
    }
}
