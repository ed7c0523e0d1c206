using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace CnnInterpret.Daemon;

/// <summary>
/// JSON-RPC messages framed by <c>Content-Length</c> headers (LSP's base protocol, what vscode-jsonrpc speaks),
/// read defensively: a malformed header, a body that is not JSON-RPC or a message over the size limit is
/// answered with an error (id null, as JSON-RPC says for unreadable requests) and the connection lives on. An
/// oversized body is answered at once, then skipped without being held in memory, up to the next line that starts
/// with a Content-Length header (a lying length must not swallow the messages after it); after garbage, reading
/// resumes at the next line that starts a header. A Content-Length that lies cannot always be told from the bytes:
/// too short gives a parse error for that message and the next one resyncs; too long (under the size limit)
/// swallows the start of the next message.
/// A body is scanned before it is deserialized: a string longer than <see cref="MaxStringBytes"/> (no parameter of this
/// protocol needs one; a path is at most 4096 bytes) refuses the whole message at once, answered with its id, so a
/// 50-million-character path costs its bytes once and nothing more. Messages and log lines never echo such input.
/// When the client closes its end, the end of input is reported only once every request read has been answered:
/// <c>printf '…request…' | cnn-interpret-daemon</c> gets its answer before the daemon exits.
/// </summary>
public sealed class FramedMessageHandler(Stream output, Stream input, IJsonRpcMessageFormatter formatter, ILogger logger, int maxMessageBytes = FramedMessageHandler.DefaultMaxMessageBytes)
    : MessageHandlerBase(formatter)
{
    public const int DefaultMaxMessageBytes = 64 * 1024 * 1024;
    public const string MalformedMessageMethod = "$/cnnInterpret/malformedMessage";
    public const string RefusedMessageMethod = "$/cnnInterpret/refusedMessage";

    /// <summary>The longest string a message may hold, in bytes as sent (escapes included).</summary>
    public const int MaxStringBytes = 16 * 1024;
    private const int MaxHeaderBytes = 8 * 1024;

    private readonly BufferedStream _input = new(input, 64 * 1024);
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private string? _pendingProblem;
    private long _discard; // what is left of an oversized body
    private readonly HashSet<RequestId> _unanswered = [];
    private TaskCompletionSource _allAnswered = Answered();

    public override bool CanRead => true;
    public override bool CanWrite => true;

    protected override async ValueTask<JsonRpcMessage?> ReadCoreAsync(CancellationToken cancellationToken)
    {
        if (_pendingProblem is { } pending)
        {
            _pendingProblem = null;
            return Malformed(pending);
        }
        long? length = null;
        string? problem = null;
        var sawHeader = false;
        var headerBytes = 0;
        var carried = _discard > 0 ? await DiscardAsync(cancellationToken).ConfigureAwait(false) : null;
        while (true)
        {
            var line = carried ?? await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            carried = null;
            if (line is null) // the client closed the stream
            {
                if (problem is not null) return Malformed(problem);
                await AllAnswered().WaitAsync(cancellationToken).ConfigureAwait(false);
                return null;
            }
            headerBytes += line.Length + 2;
            if (line.Length == 0)
            {
                if (length is not null) break;
                if (sawHeader || problem is not null) return Malformed(problem ?? "the message has no Content-Length header");
                continue; // a stray blank line between messages
            }
            // Garbage glued to the front of a header (say the rest of a body whose Content-Length was too short):
            // report it, and read the header that follows.
            var at = line.IndexOf("Content-Length:", StringComparison.OrdinalIgnoreCase);
            if (at > 0)
            {
                problem ??= $"unexpected bytes before a header: '{Shorten(line[..at])}' (was a Content-Length too short?)";
                line = line[at..];
            }
            var colon = line.IndexOf(':');
            if (colon <= 0 || headerBytes > MaxHeaderBytes)
            {
                problem ??= $"'{Shorten(line)}' is not a 'Name: value' header";
                continue;
            }
            sawHeader = true;
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) continue;
            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) length = n;
            else return await SkipFrameAsync($"Content-Length '{Shorten(value)}' is not a whole number", cancellationToken).ConfigureAwait(false);
        }

        // Garbage before a good header is answered after that message.
        _pendingProblem = problem;
        if (length.Value > maxMessageBytes)
        {
            _discard = length.Value; // skipped before the next read, after this answer
            return Malformed($"the message is {length.Value:N0} bytes, over the limit of {maxMessageBytes:N0}");
        }
        var body = new byte[length.Value];
        await _input.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
        if (Scan(body) is { } refusal) return refusal;
        JsonRpcMessage message;
        try
        {
            message = Formatter.Deserialize(new ReadOnlySequence<byte>(body));
        }
        catch (Exception e)
        {
            return Malformed($"the body is not a JSON-RPC message: {(e.InnerException ?? e).Message}");
        }
        if (message is JsonRpcRequest { IsResponseExpected: true } request) Track(request.RequestId, answered: false);
        return message;
    }

    /// <summary>
    /// Walks the body's tokens without allocating: null when every string is short enough (or the body is not JSON, which
    /// the formatter then reports), else a refusal answered with the message's id when it has one.
    /// </summary>
    private JsonRpcRequest? Scan(byte[] body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        long longest = 0;
        RequestId id = RequestId.Null;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName) longest = Math.Max(longest, reader.ValueSpan.Length);
                if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("id"u8) && reader.Read())
                {
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number)) id = new RequestId(number);
                    else if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= 256) id = new RequestId(reader.GetString());
                    else if (reader.TokenType == JsonTokenType.String) longest = Math.Max(longest, reader.ValueSpan.Length);
                }
            }
        }
        catch (JsonException)
        {
            return null; // not JSON: the formatter says so, as before
        }
        if (longest <= MaxStringBytes) return null;
        var problem = $"the message holds a string of {longest:N0} bytes; strings are at most {MaxStringBytes:N0} bytes (a file path at most 4,096)";
        logger.RefusedMessage(body.Length, problem);
        if (!id.IsNull) Track(id, answered: false);
        return new JsonRpcRequest
        {
            RequestId = id,
            Method = RefusedMessageMethod,
            ArgumentsList = [$"Refused: {problem}. Check the paths and values you send; nothing was done."],
        };
    }

    private static TaskCompletionSource Answered()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    private void Track(RequestId id, bool answered)
    {
        lock (_unanswered)
        {
            if (answered)
            {
                if (_unanswered.Remove(id) && _unanswered.Count == 0) _allAnswered.TrySetResult();
            }
            else if (_unanswered.Add(id) && _unanswered.Count == 1)
            {
                _allAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    private Task AllAnswered()
    {
        lock (_unanswered) return _allAnswered.Task;
    }

    /// <summary>Reads to the blank line that ends a bad header block and reports the problem.</summary>
    private async Task<JsonRpcMessage?> SkipFrameAsync(string problem, CancellationToken cancellationToken)
    {
        while (await ReadLineAsync(cancellationToken).ConfigureAwait(false) is { Length: > 0 }) { }
        return Malformed(problem);
    }

    protected override async ValueTask WriteCoreAsync(JsonRpcMessage content, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>();
        Formatter.Serialize(body, content);
        var header = Encoding.ASCII.GetBytes($"Content-Length: {body.WrittenCount}\r\n\r\n");
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(body.WrittenMemory, cancellationToken).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false); // out before it counts as answered
        }
        finally
        {
            _writeGate.Release();
        }
        if (content is JsonRpcResult or JsonRpcError) Track(((IJsonRpcMessageWithId)content).RequestId, answered: true);
    }

    protected override ValueTask FlushAsync(CancellationToken cancellationToken) => new(output.FlushAsync(cancellationToken));

    /// <summary>A request the server answers with a parse error (id null) saying what was wrong.</summary>
    private JsonRpcRequest Malformed(string problem)
    {
        logger.MalformedMessage(problem);
        return new JsonRpcRequest
        {
            RequestId = RequestId.Null,
            Method = MalformedMessageMethod,
            ArgumentsList = [$"Malformed JSON-RPC message: {problem}. Each message must be one JSON-RPC 2.0 object after a 'Content-Length: N' header and a blank line."],
        };
    }

    /// <summary>One header line (CRLF or LF ended), or null at the end of the stream. Over-long lines are cut.</summary>
    private async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await _input.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0)
                return bytes.Count == 0 ? null : Encoding.ASCII.GetString(bytes.ToArray());
            if (one[0] == '\n') return Encoding.ASCII.GetString(bytes.ToArray()).TrimEnd('\r');
            if (bytes.Count < MaxHeaderBytes) bytes.Add(one[0]);
        }
    }

    /// <summary>
    /// Skips what is left of an oversized body, unless a line starting with "Content-Length:" comes first (the
    /// length lied): then that header line is returned, and reading goes on from that message.
    /// </summary>
    private async ValueTask<string?> DiscardAsync(CancellationToken cancellationToken)
    {
        const string header = "Content-Length:";
        var one = new byte[1];
        var (atLineStart, matched) = (false, 0);
        while (_discard > 0)
        {
            if (await _input.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0) break;
            _discard--;
            var c = char.ToLowerInvariant((char)one[0]);
            if (c == '\n')
            {
                (atLineStart, matched) = (true, 0);
            }
            else if ((atLineStart || matched > 0) && c == char.ToLowerInvariant(header[matched]))
            {
                atLineStart = false;
                if (++matched == header.Length)
                {
                    _discard = 0;
                    return header + await ReadLineAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                (atLineStart, matched) = (false, 0);
            }
        }
        _discard = 0;
        return null;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _writeGate.Dispose();
            _input.Dispose();
        }
        base.Dispose(disposing);
    }
}
