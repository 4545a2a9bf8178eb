using System.Net.Sockets;
using Calico.Bgp.Speaker.Transport;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>The neighbour's accepted connections waiting for the session: two kept, the reader woken, nothing lost to a cancelled wait.</summary>
public sealed class ConnectionInboxTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(10);
    private readonly List<Socket> _sockets = [];

    private Socket NewSocket()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _sockets.Add(s);
        return s;
    }

    public void Dispose()
    {
        foreach (var s in _sockets)
            s.Dispose();
    }

    [Fact]
    public void Two_are_kept_in_order_and_a_third_is_refused()
    {
        var inbox = new ConnectionInbox();
        var (a, b, c) = (NewSocket(), NewSocket(), NewSocket());
        Assert.True(inbox.TryWrite(a));
        Assert.True(inbox.TryWrite(b));
        Assert.False(inbox.TryWrite(c));
        Assert.True(inbox.TryRead(out var first));
        Assert.Same(a, first);
        Assert.True(inbox.TryWrite(c));
        Assert.True(inbox.TryRead(out var second));
        Assert.Same(b, second);
        Assert.True(inbox.TryRead(out var third));
        Assert.Same(c, third);
        Assert.False(inbox.TryRead(out _));
    }

    [Fact]
    public async Task A_waiting_reader_gets_the_next_connection_but_never_runs_inside_the_write()
    {
        // The writer holds a lock while it writes: a reader run inline would run inside it, on the
        // writer's thread, and find the lock held by its thread (the listener's accept loop must not
        // run the session's step).
        var inbox = new ConnectionInbox();
        var writerLock = new object();
        var wait = Reader(inbox, writerLock);
        Assert.False(wait.IsCompleted);
        var socket = NewSocket();
        lock (writerLock)
            Assert.True(inbox.TryWrite(socket));
        var (got, insideWrite) = await wait.WaitAsync(Long);
        Assert.Same(socket, got);
        Assert.False(insideWrite);
        // Taken, not kept as well.
        Assert.False(inbox.TryRead(out _));
    }

    private static async Task<(Socket, bool)> Reader(ConnectionInbox inbox, object writerLock)
    {
        // Not posted to the test framework's context: the inbox alone decides where the reader runs.
        var s = await inbox.ReadAsync(CancellationToken.None).ConfigureAwait(false);
        return (s, Monitor.IsEntered(writerLock));
    }

    [Fact]
    public async Task A_kept_connection_is_read_at_once()
    {
        var inbox = new ConnectionInbox();
        var socket = NewSocket();
        inbox.TryWrite(socket);
        var read = inbox.ReadAsync(CancellationToken.None);
        Assert.True(read.IsCompletedSuccessfully);
        Assert.Same(socket, await read);
    }

    [Fact]
    public async Task A_cancelled_wait_throws_and_the_next_connection_is_kept_for_the_next_reader()
    {
        var inbox = new ConnectionInbox();
        using var cts = new CancellationTokenSource();
        var wait = inbox.ReadAsync(cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Long));
        var socket = NewSocket();
        Assert.True(inbox.TryWrite(socket));
        Assert.True(inbox.TryRead(out var kept));
        Assert.Same(socket, kept);
    }

    [Fact]
    public async Task A_token_cancelled_before_the_read_throws_and_leaves_what_is_kept()
    {
        var inbox = new ConnectionInbox();
        var socket = NewSocket();
        inbox.TryWrite(socket);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => inbox.ReadAsync(new CancellationToken(true)).AsTask());
        Assert.True(inbox.TryRead(out var kept));
        Assert.Same(socket, kept);
    }

    [Fact]
    public async Task A_second_reader_at_the_same_time_is_refused()
    {
        var inbox = new ConnectionInbox();
        using var cts = new CancellationTokenSource();
        var first = inbox.ReadAsync(cts.Token).AsTask();
        await Assert.ThrowsAsync<InvalidOperationException>(() => inbox.ReadAsync(CancellationToken.None).AsTask());
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(Long));
    }

    [Fact]
    public async Task No_connection_is_lost_when_a_wait_is_cancelled_as_it_arrives()
    {
        var inbox = new ConnectionInbox();
        var socket = NewSocket();
        for (var i = 0; i < 2_000; i++)
        {
            using var cts = new CancellationTokenSource();
            var wait = inbox.ReadAsync(cts.Token).AsTask();
            var cancel = Task.Run(cts.Cancel);
            Assert.True(inbox.TryWrite(socket));
            await cancel;
            Socket? got = null;
            try
            {
                got = await wait.WaitAsync(Long);
            }
            catch (OperationCanceledException)
            {
                // Cancelled first: the connection must have been kept instead.
                Assert.True(inbox.TryRead(out got));
            }
            Assert.Same(socket, got);
            Assert.False(inbox.TryRead(out _));
        }
    }
}
