namespace Calico.Bgp.Lab;

/// <summary>Polls a condition until it holds or a deadline passes; the failure names what was awaited.</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<Task<string>>? describe = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition().ConfigureAwait(false))
                return;
            if (DateTime.UtcNow > deadline)
            {
                var state = describe is null ? "" : "\n" + await describe().ConfigureAwait(false);
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}{state}");
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what);
}
