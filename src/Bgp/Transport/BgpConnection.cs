using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Transport;

/// <summary>
/// One TCP connection to the peer with its pipes. Writes are serialised (the FSM's messages and
/// the exporter's UPDATEs share the writer); a slow peer makes only its own writer wait, since
/// <see cref="PipeWriter.FlushAsync"/> completes when the socket has taken the bytes.
/// </summary>
public sealed class BgpConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(5);
    private int _disposed;

    private readonly BgpMessageStats? _stats;

    /// <param name="socket">The connected socket; the connection owns it.</param>
    /// <param name="incoming">Accepted from the neighbour rather than connected by us.</param>
    /// <param name="stats">Counts every message sent (by type, with its bytes).</param>
    public BgpConnection(Socket socket, bool incoming, BgpMessageStats? stats = null)
    {
        _socket = socket;
        _stats = stats;
        Incoming = incoming;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 65536, leaveOpen: true));
        Writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 65536, leaveOpen: true));
        var local = (IPEndPoint)socket.LocalEndPoint!;
        var remote = (IPEndPoint)socket.RemoteEndPoint!;
        LocalAddress = IpAddr.FromIPAddress(local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address);
        RemoteAddress = IpAddr.FromIPAddress(remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address);
    }

    public bool Incoming { get; }
    public PipeReader Reader { get; }
    public PipeWriter Writer { get; }
    public IpAddr LocalAddress { get; }
    public IpAddr RemoteAddress { get; }

    /// <summary>Writes the one message of <paramref name="type"/> that <paramref name="write"/> produces and flushes, under the write lock.</summary>
    public async ValueTask SendAsync(Wire.MessageType type, Action<IBufferWriter<byte>> write, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            var before = Writer.CanGetUnflushedBytes ? Writer.UnflushedBytes : 0;
            write(Writer);
            if (Writer.CanGetUnflushedBytes)
                _stats?.CountSent(type, (int)(Writer.UnflushedBytes - before));
            await Writer.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Writes already encoded messages (an update group's shared bytes) and flushes once, under
    /// the write lock.
    /// </summary>
    public async ValueTask SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> chunks, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            foreach (var chunk in chunks)
            {
                Writer.Write(chunk.Span);
                _stats?.CountSent(chunk.Span);
            }
            await Writer.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // A writer still flushing to a dead peer gets a few seconds; the socket shutdown below ends it anyway.
        var locked = await _writeLock.WaitAsync(DisposeWait).ConfigureAwait(false);
        try
        {
            await Reader.CompleteAsync().ConfigureAwait(false);
            if (locked)
                await Writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The peer is gone; nothing to flush.
        }
        finally
        {
            if (locked)
                _writeLock.Release();
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already closed.
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
