namespace Calico.Bgp.Speaker.Wire;

/// <summary>
/// RFC 7606 §2 error-handling approaches, weakest first so the decoder can keep the strongest
/// one seen with <see cref="Math.Max(int, int)"/>.
/// </summary>
public enum ErrorAction
{
    None = 0,
    /// <summary>"Attribute discard": drop the malformed attribute, keep the routes.</summary>
    AttributeDiscard = 1,
    /// <summary>"Treat-as-withdraw": the UPDATE's NLRI are withdrawn (RFC 7606 §2).</summary>
    TreatAsWithdraw = 2,
    /// <summary>"AFI/SAFI disable": the family is no longer used on the session.</summary>
    AfiSafiDisable = 3,
    /// <summary>"Session reset": NOTIFICATION and close (RFC 4271 §6).</summary>
    SessionReset = 4,
}
