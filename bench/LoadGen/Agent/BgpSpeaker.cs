using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.LoadGen.Agent;

/// <summary>
/// One emulated BGP speaker: connects from its own address to the DUT, exchanges OPENs, then
/// counts what it receives and sends pre-encoded bytes on demand. No FSM beyond what a benchmark
/// needs: any NOTIFICATION or lost connection fails the run loudly.
/// </summary>
public sealed class BgpSpeaker : IAsyncDisposable
{
    private const int HoldTime = 240;
    private const int BgpPort = 179;
    private static readonly TimeSpan KeepaliveEvery = TimeSpan.FromSeconds(30);

    private readonly IPAddress _local;
    private readonly IPEndPoint _remote;
    private readonly uint _asn;
    private readonly CapabilitySet _ours;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private TaskCompletionSource _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;
    private Task? _loop;
    private Task? _keepalives;
    // The kernel's arrival time of the bytes being processed (KernelReceiveStamp), or 0: now.
    private long _arrival;

    /// <summary>Width of a <see cref="ReadLags"/> bucket, in microseconds.</summary>
    public const int ReadLagBucketMicroseconds = 10;

    /// <summary>
    /// With kernel stamps (P4's monitors): per UPDATE, how long after the kernel's stamp the generator
    /// read it (what a latency stamped at the read would have added), counted in buckets of
    /// <see cref="ReadLagBucketMicroseconds"/> up to 100 ms, the last one for anything later. A
    /// histogram, not a list: at 5,000/s for a minute a list per monitor would hold 600,000 numbers.
    /// Empty for speakers without kernel stamps.
    /// </summary>
    public long[] ReadLags { get; }

    public BgpSpeaker(IPAddress local, IPAddress remote, uint asn, bool addPath, PrefixCounter counter, int port = BgpPort)
    {
        _local = local;
        _remote = new IPEndPoint(remote, port);
        _asn = asn;
        V6 = local.AddressFamily == AddressFamily.InterNetworkV6;
        var family = V6 ? AfiSafi.Ipv6Unicast : AfiSafi.Ipv4Unicast;
        _ours = new CapabilitySet
        {
            Families = [family],
            RouteRefresh = true,
            FourOctetAs = asn,
            AddPath = addPath ? new Dictionary<AfiSafi, AddPathMode> { [family] = AddPathMode.Both } : new Dictionary<AfiSafi, AddPathMode>(),
        };
        Counter = counter;
        ReadLags = counter.TracksTimes ? new long[10_001] : [];
    }

    public bool V6 { get; }
    public IPAddress Local => _local;
    public uint Asn => _asn;
    public PrefixCounter Counter { get; }
    public BgpCodec Codec { get; private set; }

    /// <summary>Set when the connection dies; the runner reports it instead of waiting forever.</summary>
    public string? Failure { get; private set; }

    private int _disposed;

    public Task Established => _established.Task;

    /// <summary>
    /// Connects and completes once both KEEPALIVEs crossed; a refused or reset attempt (the DUT
    /// still starting, or still configuring the peer) is retried until <paramref name="ct"/> fires.
    /// </summary>
    public async Task ConnectAsync(CancellationToken ct)
    {
        await HandshakeAsync(ct).ConfigureAwait(false);
        // A reconnected session keeps the loop it had, unless a failed send ended it.
        if (_keepalives is null || _keepalives.IsCompleted)
            _keepalives = Task.Run(KeepaliveLoopAsync, CancellationToken.None);
    }

    /// <summary>
    /// Connects again after the DUT closed an established session (<see cref="Failure"/> set): a DUT
    /// still reading its configuration may reset a peer it has just brought up (FRR with a thousand
    /// peers: "Resetting peer … due to change in addpath config"). Only before GO: what the old
    /// session received stays counted.
    /// </summary>
    public async Task ReconnectAsync(CancellationToken ct)
    {
        _socket?.Dispose();
        if (_loop is not null)
            await _loop.ConfigureAwait(false);
        await ConnectAsync(ct).ConfigureAwait(false);
    }

    private async Task HandshakeAsync(CancellationToken ct)
    {
        while (true)
        {
            var s = new Socket(_remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            s.Bind(new IPEndPoint(_local, 0));
            if (Counter.TracksTimes)
                KernelReceiveStamp.Enable(s);
            try
            {
                await s.ConnectAsync(_remote, ct).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                s.Dispose();
                await Task.Delay(200, ct).ConfigureAwait(false);
                continue;
            }
            _socket = s;
            _established = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Failure = null;
            var open = new ArrayBufferWriter<byte>();
            OpenMessage.Create(_asn, HoldTime, BinaryPrimitives.ReadUInt32BigEndian(RouterIdBytes()), _ours).Write(open);
            await SendAsync(open.WrittenMemory, ct).ConfigureAwait(false);
            _loop = Task.Run(ReceiveLoopAsync, CancellationToken.None);
            try
            {
                await _established.Task.WaitAsync(ct).ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidDataException)
            {
                LastRetryReason = e.Message;
                await _loop.ConfigureAwait(false);
                s.Dispose();
                await Task.Delay(500, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Why the last handshake attempt failed, for diagnostics.</summary>
    public string? LastRetryReason { get; private set; }

    /// <summary>The passive side (the null sink of the self-check): takes an accepted connection.</summary>
    public async Task AcceptAsync(Socket accepted, CancellationToken ct)
    {
        accepted.NoDelay = true;
        _socket = accepted;
        var open = new ArrayBufferWriter<byte>();
        OpenMessage.Create(_asn, HoldTime, BinaryPrimitives.ReadUInt32BigEndian(RouterIdBytes()), _ours).Write(open);
        await SendAsync(open.WrittenMemory, ct).ConfigureAwait(false);
        _loop = Task.Run(ReceiveLoopAsync, CancellationToken.None);
        await _established.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    // IPv4 speakers use their address as router id; IPv6 ones the low 4 bytes of theirs.
    private byte[] RouterIdBytes()
    {
        var b = _local.GetAddressBytes();
        return V6 ? [10, b[13], b[14], b[15]] : b;
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct = default)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var socket = _socket ?? throw new InvalidOperationException("not connected");
            while (!bytes.IsEmpty)
            {
                var n = await socket.SendAsync(bytes, SocketFlags.None, ct).ConfigureAwait(false);
                bytes = bytes[n..];
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task KeepaliveLoopAsync()
    {
        var ka = new ArrayBufferWriter<byte>();
        KeepaliveMessage.Write(ka);
        var bytes = ka.WrittenMemory;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(KeepaliveEvery, _stop.Token).ConfigureAwait(false);
                await SendAsync(bytes, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopping, or the receive loop reports the failure.
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var socket = _socket!;
        var buffer = new byte[256 * 1024];
        var filled = 0;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int n;
                if (Counter.TracksTimes)
                {
                    // Wait until bytes are there (a zero-byte receive), then read them with their stamp.
                    await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                    n = KernelReceiveStamp.Receive(socket, buffer.AsSpan(filled), out _arrival);
                    if (n < 0)
                        continue;
                }
                else
                    n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (n == 0)
                    throw new IOException("connection closed by the DUT");
                filled += n;
                var consumed = await ProcessFramesAsync(buffer.AsMemory(0, filled)).ConfigureAwait(false);
                Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                filled -= consumed;
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException or ObjectDisposedException)
        {
            if (!_stop.IsCancellationRequested)
            {
                Failure = $"{_local}: {e.Message}";
                _established.TrySetException(e);
            }
        }
    }

    private async ValueTask<int> ProcessFramesAsync(Memory<byte> data)
    {
        var o = 0;
        while (data.Length - o >= BgpConstants.HeaderLength)
        {
            var len = BinaryPrimitives.ReadUInt16BigEndian(data.Span[(o + 16)..]);
            if (len < BgpConstants.HeaderLength || len > BgpConstants.MaxExtendedMessageLength)
                throw new InvalidDataException($"bad frame length {len}");
            if (data.Length - o < len)
                break;
            var type = (MessageType)data.Span[o + 18];
            var body = data.Slice(o + BgpConstants.HeaderLength, len - BgpConstants.HeaderLength);
            o += len;
            switch (type)
            {
                case MessageType.Update:
                    var now = Stopwatch.GetTimestamp();
                    if (_arrival != 0)
                        ReadLags[Math.Clamp((int)(Stopwatch.GetElapsedTime(_arrival, now).Ticks / (10 * ReadLagBucketMicroseconds)), 0, ReadLags.Length - 1)]++;
                    Counter.Process(body.Span, Codec.ReceivesPathId(false), Codec.ReceivesPathId(true), _arrival != 0 ? _arrival : now);
                    break;
                case MessageType.Open:
                    await OnOpenAsync(body).ConfigureAwait(false);
                    break;
                case MessageType.Keepalive:
                    _established.TrySetResult();
                    break;
                case MessageType.Notification:
                    NotificationMessage.TryParse(body.Span, out var error);
                    throw new InvalidDataException($"NOTIFICATION from the DUT: {error}");
            }
        }
        return o;
    }

    private async ValueTask OnOpenAsync(ReadOnlyMemory<byte> body)
    {
        if (!OpenMessage.TryParse(body.Span, out var open, out var error))
            throw new InvalidDataException($"bad OPEN: {error}");
        Codec = BgpCodec.Negotiate(_ours, open!.Capabilities);
        var ka = new ArrayBufferWriter<byte>();
        KeepaliveMessage.Write(ka);
        await SendAsync(ka.WrittenMemory).ConfigureAwait(false);
    }

    /// <summary>Closes the session (the socket, no NOTIFICATION: a peer that went away); a later dispose does nothing more.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        foreach (var t in (Task?[])[_loop, _keepalives])
        {
            if (t is not null)
                await t.ConfigureAwait(false);
        }
        _stop.Dispose();
        _writeLock.Dispose();
    }
}
