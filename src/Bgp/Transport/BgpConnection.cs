using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker.Transport;

/// <summary>
/// One TCP connection to the peer with its pipes. Writes are serialised (the FSM's messages and
/// the exporter's UPDATEs share the writer); a slow peer makes only its own writer wait, since
/// <see cref="PipeWriter.FlushAsync"/> completes when the socket has taken the bytes.
/// </summary>
public sealed class BgpConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    // The socket's reads and writes, directly while they need not wait (SocketStream).
    private readonly SocketStream _stream;
    // The socket's write side with progress tracking; the pipe writes here, and so do shared UPDATE bytes.
    private readonly ProgressStream _out;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(5);
    private int _disposed;

    private readonly BgpMessageStats? _stats;
    private readonly TimeProvider _time;
    // RFC 9687: whether a flush is under way, and when the socket last took bytes of ours (UTC ticks).
    private volatile bool _writing;
    private long _lastProgressTicks;

    /// <param name="socket">The connected socket; the connection owns it.</param>
    /// <param name="incoming">Accepted from the neighbour rather than connected by us.</param>
    /// <param name="stats">Counts every message sent (by type, with its bytes).</param>
    /// <param name="time">The clock of <see cref="LastSendProgress"/>.</param>
    public BgpConnection(Socket socket, bool incoming, BgpMessageStats? stats = null, TimeProvider? time = null)
    {
        _socket = socket;
        _stats = stats;
        _time = time ?? TimeProvider.System;
        _lastProgressTicks = _time.GetUtcNow().UtcTicks;
        Incoming = incoming;
        _socket.NoDelay = true;
        _stream = new SocketStream(socket);
        // 4 KiB reads, as BIRD's receive buffer. A zero-byte read first waits for the peer's bytes,
        // so a buffer is rented only once there is something to read and is returned when its
        // messages are consumed: an idle session holds none (1000 reflector clients held 4 MB of
        // buffers otherwise). A burst still reads whatever the socket has, one buffer at a time,
        // and a longer message spans buffers.
        Reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true));
        _out = new ProgressStream(_stream, NoteProgress);
        // Only the session's own messages go through the pipe (OPEN, KEEPALIVE, NOTIFICATION,
        // ROUTE-REFRESH: a few bytes each; UPDATEs go to the socket from the groups' buffers), and
        // each flush returns the pipe's buffer to the pool: 4 KiB fits any of them but an extended
        // NOTIFICATION's data, which takes a larger buffer for that one write.
        Writer = PipeWriter.Create(_out, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
        var local = (IPEndPoint)socket.LocalEndPoint!;
        var remote = (IPEndPoint)socket.RemoteEndPoint!;
        LocalAddress = IpAddr.FromIPAddress(local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address);
        RemoteAddress = IpAddr.FromIPAddress(remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address);
    }

    public bool Incoming { get; }

    /// <summary>The protocol's <c>debug { packets }</c> logger: every message written is traced through it while enabled.</summary>
    public ILogger? PacketLog { get; init; }

    /// <summary>The protocol's name, for the packet traces.</summary>
    public string ProtocolName { get; init; } = "";
    public PipeReader Reader { get; }
    public PipeWriter Writer { get; }
    public IpAddr LocalAddress { get; }
    public IpAddr RemoteAddress { get; }

    /// <summary>
    /// When our writes last made progress (the socket took some of our bytes), or now when nothing
    /// waits to be written: what the send hold timer runs from (RFC 9687 §4).
    /// </summary>
    public DateTimeOffset LastSendProgress =>
        _writing ? new DateTimeOffset(Interlocked.Read(ref _lastProgressTicks), TimeSpan.Zero) : _time.GetUtcNow();

    private void NoteProgress() => Interlocked.Exchange(ref _lastProgressTicks, _time.GetUtcNow().UtcTicks);

    /// <summary>Flushes what is written to <see cref="Writer"/>, with the time it takes tracked for the send hold timer.</summary>
    private async ValueTask FlushTrackedAsync(CancellationToken ct)
    {
        NoteProgress();
        _writing = true;
        try
        {
            await Writer.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _writing = false;
        }
    }

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
            {
                _stats?.CountSent(type, (int)(Writer.UnflushedBytes - before));
                if (PacketLog is { } log)
                    BgpProtocol.TracePacket(log, ProtocolName, true, type, (int)(Writer.UnflushedBytes - before));
            }
            await FlushTrackedAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Writes already encoded messages (an update group's shared bytes), under the write lock.
    /// </summary>
    /// <remarks>
    /// The bytes go to the socket from the group's own buffers, not copied into this session's pipe
    /// first: a pipe holds everything written until the socket takes it, so a thousand reflector
    /// clients each held their own copy of the same table while it drained. Small chunks are
    /// gathered into one pooled slice per write, so a burst of small UPDATEs still costs one
    /// write per slice. The pipe is always flushed when the lock is free, so nothing of it is
    /// overtaken.
    /// </remarks>
    public async ValueTask SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> chunks, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        byte[]? slice = null;
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            NoteProgress();
            _writing = true;
            var filled = 0;
            // By index: a foreach over the interface boxes the list's enumerator, once per write
            // of every session (a tenth of what P4's daemon allocated).
            for (var i = 0; i < chunks.Count; i++)
            {
                var chunk = chunks[i];
                _stats?.CountSent(chunk.Span);
                if (PacketLog is { } log && log.IsEnabled(LogLevel.Debug))
                    TraceFramed(log, chunk.Span);
                if (chunk.Length >= ProgressStream.SliceBytes)
                {
                    if (filled > 0)
                        await _out.WriteAsync(slice.AsMemory(0, filled), ct).ConfigureAwait(false);
                    filled = 0;
                    await _out.WriteAsync(chunk, ct).ConfigureAwait(false);
                    continue;
                }
                slice ??= ArrayPool<byte>.Shared.Rent(ProgressStream.SliceBytes);
                if (filled + chunk.Length > slice.Length)
                {
                    await _out.WriteAsync(slice.AsMemory(0, filled), ct).ConfigureAwait(false);
                    filled = 0;
                }
                chunk.Span.CopyTo(slice.AsSpan(filled));
                filled += chunk.Length;
            }
            if (filled > 0)
                await _out.WriteAsync(slice.AsMemory(0, filled), ct).ConfigureAwait(false);
        }
        finally
        {
            _writing = false;
            if (slice is not null)
                ArrayPool<byte>.Shared.Return(slice);
            _writeLock.Release();
        }
    }

    /// <summary>Traces each message of already framed bytes (header: marker, length, type; RFC 4271 §4.1).</summary>
    private void TraceFramed(ILogger log, ReadOnlySpan<byte> messages)
    {
        while (messages.Length >= Wire.BgpConstants.HeaderLength)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(messages[16..]);
            if (length < Wire.BgpConstants.HeaderLength || length > messages.Length)
                return;
            BgpProtocol.TracePacket(log, ProtocolName, true, (Wire.MessageType)messages[18], length);
            messages = messages[length..];
        }
    }

    /// <summary>
    /// Writes one message only if that can be done at once, without waiting: when no other write is
    /// under way (so the stream is between messages) and the socket has room for it. For a
    /// NOTIFICATION sent on the way out of a stalled session (RFC 9687 §4: "if possible").
    /// </summary>
    public bool TrySendNow(Wire.MessageType type, Action<IBufferWriter<byte>> write)
    {
        if (Volatile.Read(ref _disposed) != 0 || !_writeLock.Wait(0))
            return false;
        try
        {
            var buffer = new ArrayBufferWriter<byte>(64);
            write(buffer);
            // Writable means room for far more than one NOTIFICATION, so the send cannot block.
            if (!_socket.Poll(0, SelectMode.SelectWrite))
                return false;
            if (_socket.Send(buffer.WrittenSpan, SocketFlags.None, out var error) != buffer.WrittenCount || error != SocketError.Success)
                return false;
            _stats?.CountSent(type, buffer.WrittenCount);
            if (PacketLog is { } log)
                BgpProtocol.TracePacket(log, ProtocolName, true, type, buffer.WrittenCount);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Drops the connection at once, for a peer that stopped reading: a reset rather than an
    /// orderly close, so the kernel drops the bytes queued for it instead of keeping them until
    /// the peer reads, and a write blocked on the full socket fails now.
    /// </summary>
    public void Abort()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
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
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or OperationCanceledException)
        {
            // The peer is gone; nothing to flush.
        }
        finally
        {
            if (locked)
                _writeLock.Release();
        }
        DropUnread();
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

    /// <summary>
    /// Reads and drops what the peer sent that was never read. The zero-byte reads only wait for
    /// bytes, so a connection closed while idle (the loser of a collision, a stop) may still have
    /// the peer's last message in the kernel, and a socket closed with unread data is reset
    /// rather than ended with FIN: the peer would see "connection reset" instead of our
    /// NOTIFICATION and the close. Bounded, in case the peer keeps sending.
    /// </summary>
    private void DropUnread()
    {
        Span<byte> scratch = stackalloc byte[1024];
        try
        {
            for (var total = 0; total < MaxDroppedBytes && _socket.Available > 0;)
            {
                var n = _socket.Receive(scratch, SocketFlags.None, out var error);
                if (n <= 0 || error != SocketError.Success)
                    return;
                total += n;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    private const int MaxDroppedBytes = 1 << 20;
}
