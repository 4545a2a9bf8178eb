namespace Calico.Bgp.Speaker.Transport;

/// <summary>
/// The write side of a connection, cut into slices so that progress is seen while one large
/// flush is still going: each slice the socket takes is a moment the peer read some of our data,
/// which is what restarts the send hold timer (RFC 9687 §4). Reads are not served here: the
/// connection reads from the socket's own stream.
/// </summary>
internal sealed class ProgressStream(Stream inner, Action progress) : Stream
{
    /// <summary>
    /// Small next to the socket buffers (hundreds of KiB), so a peer reading at all restarts the
    /// timer many times per buffer it drains; large enough that the slicing costs nothing measurable.
    /// </summary>
    internal const int SliceBytes = 16 * 1024;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var slice = buffer[..Math.Min(SliceBytes, buffer.Length)];
            await inner.WriteAsync(slice, cancellationToken).ConfigureAwait(false);
            progress();
            buffer = buffer[slice.Length..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        var rest = buffer.AsSpan(offset, count);
        while (!rest.IsEmpty)
        {
            var slice = rest[..Math.Min(SliceBytes, rest.Length)];
            inner.Write(slice);
            progress();
            rest = rest[slice.Length..];
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
