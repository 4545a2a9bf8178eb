namespace Calico.Bgp.Speaker.Session;

/// <summary>
/// BIRD's waits between attempts: <c>connect delay time</c> before the first connect, and
/// <c>error wait time MIN,MAX</c> after an error, doubling per consecutive error (bgp_handle_graceful_restart
/// aside, as BIRD's <c>bgp_update_startup_delay</c> does) and reset once a session stays up.
/// </summary>
public sealed class Backoff(int connectDelay, int errorWaitMin, int errorWaitMax)
{
    private int _current;

    public int ConnectDelay { get; } = connectDelay;

    /// <summary>The wait after an error: MIN first, then doubling up to MAX.</summary>
    public TimeSpan NextErrorWait()
    {
        _current = _current == 0 ? errorWaitMin : Math.Min(_current * 2, errorWaitMax);
        return TimeSpan.FromSeconds(_current);
    }

    /// <summary>The session reached Established: the next error starts from MIN again.</summary>
    public void Reset() => _current = 0;

    public int CurrentSeconds => _current;
}
