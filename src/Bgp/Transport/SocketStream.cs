using System.Net.Sockets;

namespace Calico.Bgp.Speaker.Transport;

/// <summary>
/// A connected socket as a stream: each read and write goes to the socket directly first, and only
/// one that must wait (nothing to read yet, no room to write) waits in a <see cref="NetworkStream"/>'s
/// asynchronous call, which keeps that call's cancellation.
/// </summary>
/// <remarks>
/// Why not the <see cref="NetworkStream"/> alone: a call that fails at once inside it (a peer already
/// gone: a reset, EPIPE) is reported as an exception given the current stack trace as text, and in
/// the Native AOT image that text is built from the stack trace metadata, some 40 KB of garbage and
/// the CPU to format it per failure. A reflector whose 1,000 clients left together failed a send or a
/// read on nearly each: 16–35 MB of that text, and a peak 20 MiB above its working one
/// (bench/RESULTS-perf.md, twenty-seventh round). Here
/// a socket error becomes the <see cref="IOException"/> over a <see cref="SocketException"/> that the
/// stream's would be, thrown without that text; the wait's own failures (after the call went
/// asynchronous) carry none either. The direct try is the system call the stream's own call makes
/// first; a call that must wait makes it once more (the stream tries again before it waits), which
/// costs nothing measurable beside the wait (P1, P2 and P4 as before, same round).
/// </remarks>
internal sealed class SocketStream : Stream
{
    private readonly Socket _socket;
    private readonly NetworkStream _waits;

    /// <summary>How long a synchronous <see cref="Read(Span{byte})"/> or <see cref="Write(ReadOnlySpan{byte})"/> sleeps at most between tries.</summary>
    private const int PollMicroseconds = 1_000_000;

    /// <param name="socket">Connected; the stream owns it.</param>
    public SocketStream(Socket socket)
    {
        _socket = socket;
        _waits = new NetworkStream(socket, ownsSocket: true);
        // After the NetworkStream, whose constructor refuses a non-blocking socket; its asynchronous
        // calls do not depend on it, and the direct calls below must never block.
        socket.Blocking = false;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<int>(cancellationToken);
        var read = ReceiveNow(buffer.Span);
        return read >= 0 ? new ValueTask<int>(read) : _waits.ReadAsync(buffer, cancellationToken);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        var sent = SendNow(buffer.Span);
        return sent == buffer.Length ? ValueTask.CompletedTask : _waits.WriteAsync(buffer[sent..], cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read;
        while ((read = ReceiveNow(buffer)) < 0)
            _socket.Poll(PollMicroseconds, SelectMode.SelectRead);
        return read;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var sent = SendNow(buffer);
            if (sent == 0)
                _socket.Poll(PollMicroseconds, SelectMode.SelectWrite);
            buffer = buffer[sent..];
        }
    }

    /// <summary>
    /// Reads what the socket has now: the bytes read (0 at the end of the stream), or -1 when there is
    /// nothing yet. A zero-byte read (a wait for bytes, which the pipe's reader makes before it rents a
    /// buffer) peeks at one byte, as the runtime's own does: 0 when there are bytes or the end.
    /// </summary>
    private int ReceiveNow(Span<byte> buffer)
    {
        SocketError error;
        if (buffer.IsEmpty)
        {
            Span<byte> peek = stackalloc byte[1];
            _socket.Receive(peek, SocketFlags.Peek, out error);
        }
        else
        {
            var read = _socket.Receive(buffer, SocketFlags.None, out error);
            if (error == SocketError.Success)
                return read;
        }
        return error switch
        {
            SocketError.Success => 0,
            SocketError.WouldBlock => -1,
            _ => throw Failure("read data from", error),
        };
    }

    /// <summary>Sends what the socket takes now; returns how many bytes that was (0 when it is full).</summary>
    private int SendNow(ReadOnlySpan<byte> buffer)
    {
        var sent = _socket.Send(buffer, SocketFlags.None, out var error);
        return error switch
        {
            SocketError.Success => sent,
            SocketError.WouldBlock => 0,
            _ => throw Failure("write data to", error),
        };
    }

    /// <summary>The exception <see cref="NetworkStream"/> gives for the same error, without the stack trace as text.</summary>
    private static IOException Failure(string what, SocketError error)
    {
        var cause = new SocketException((int)error);
        return new IOException($"Unable to {what} the transport connection: {cause.Message}.", cause);
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _waits.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _waits.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
