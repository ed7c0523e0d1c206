namespace CnnInterpret.Core;

/// <summary>
/// Checks on text that comes from outside (a request, a command line) before anything is done with it, and the short form
/// in which errors and logs quote it: a message never echoes unbounded input.
/// </summary>
public static class InputText
{
    /// <summary>The longest path accepted, in bytes of UTF-8: Linux's PATH_MAX (Windows' and macOS' limits are shorter).</summary>
    public const int MaxPathBytes = 4096;

    /// <summary>The most characters of an input a message quotes.</summary>
    public const int QuoteLength = 200;

    /// <summary>Refuses a path longer than any OS allows, with an error of <paramref name="kind"/> naming <paramref name="what"/>.</summary>
    public static void RequirePath(string? path, ErrorKind kind, string what)
    {
        if (path is null) return;
        // Counting UTF-8 bytes stops early: no encoding of a long path happens.
        if (path.Length > MaxPathBytes || System.Text.Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
            throw new CnnInterpretException(kind,
                $"The {what} path is {path.Length:N0} characters long; paths are at most {MaxPathBytes:N0} bytes. It starts '{Quote(path, 60)}'. Pass the path of a file.");
    }

    /// <summary>At most <paramref name="length"/> characters of <paramref name="text"/>, with an ellipsis and the full length when cut.</summary>
    public static string Quote(string? text, int length = QuoteLength) =>
        text is null ? "" : text.Length <= length ? text : $"{text[..length]}… ({text.Length:N0} characters)";
}
