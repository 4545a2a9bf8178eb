using System.Text;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>
/// RFC 9003 (which obsoletes RFC 8203): the free-form text an operator gives with a Cease
/// "Administrative Shutdown" (6/2) or "Administrative Reset" (6/4), carried as the NOTIFICATION's
/// data: one length octet, then that many octets of UTF-8.
/// </summary>
public static class ShutdownCommunication
{
    /// <summary>§2: the length octet caps the text at 255 octets.</summary>
    public const int MaxBytes = 255;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Whether a Cease of <paramref name="subcode"/> may carry a shutdown communication (§2).</summary>
    public static bool Applies(NotificationCode code, byte subcode) =>
        code == NotificationCode.Cease && subcode is (byte)CeaseSubcode.AdministrativeShutdown or (byte)CeaseSubcode.AdministrativeReset;

    /// <summary>
    /// The NOTIFICATION data for <paramref name="message"/>: the length octet and the UTF-8 text,
    /// cut to 255 octets at a character boundary (never inside a multi-octet sequence).
    /// </summary>
    public static byte[] Encode(string message)
    {
        var utf8 = Encoding.UTF8.GetBytes(message);
        var length = Math.Min(utf8.Length, MaxBytes);
        // A continuation octet (10xxxxxx) at the cut means a character would be split: back off to its start.
        while (length < utf8.Length && length > 0 && (utf8[length] & 0xC0) == 0x80)
            length--;
        var data = new byte[length + 1];
        data[0] = (byte)length;
        utf8.AsSpan(0, length).CopyTo(data.AsSpan(1));
        return data;
    }

    /// <summary>
    /// The text of a received shutdown communication, or null when <paramref name="data"/> holds
    /// none or one that §4 says not to show: a length past the data, or text that is not UTF-8.
    /// An empty text (length 0) is no message either.
    /// </summary>
    public static string? TryDecode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 1 || data[0] == 0 || data[0] > data.Length - 1)
            return null;
        try
        {
            return StrictUtf8.GetString(data.Slice(1, data[0]));
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
