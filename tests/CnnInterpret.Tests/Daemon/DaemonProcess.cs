using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Daemon;

/// <summary>
/// The real daemon as a child process, spoken to over its stdio with hand-written Content-Length frames,
/// so the tests see exactly the bytes a client such as vscode-jsonrpc sees. Every read has a deadline.
/// </summary>
public sealed class DaemonProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Stream _in, _out;
    private readonly StringBuilder _stderr = new();
    private int _nextId;

    public DaemonProcess(IDictionary<string, string>? environment = null, params string[] arguments)
        : this(Repo.DaemonDll, environment, arguments)
    {
    }

    /// <summary>The daemon as <c>cnn-interpret serve ARGUMENTS</c> starts it.</summary>
    public static DaemonProcess ThroughCli(params string[] arguments) => new(Repo.CliDll, null, ["serve", .. arguments]);

    private DaemonProcess(string dll, IDictionary<string, string>? environment, string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [dll, .. arguments])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["CNN_INTERPRET_MODELS_DIR"] = Repo.Models;
        start.Environment["CNN_INTERPRET_CACHE"] = Repo.TempDir(); // never the user's cache
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        _process = Process.Start(start) ?? throw new InvalidOperationException("the daemon did not start");
        _process.ErrorDataReceived += (_, e) => { lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        _in = _process.StandardInput.BaseStream;
        _out = _process.StandardOutput.BaseStream;
    }

    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }
    public Process Process => _process;

    /// <summary>Writes bytes as they are: no framing added.</summary>
    public async Task WriteBytesAsync(byte[] bytes)
    {
        await _in.WriteAsync(bytes);
        await _in.FlushAsync();
    }

    public async Task SendRawAsync(byte[] body, int? contentLength = null)
    {
        var header = Encoding.ASCII.GetBytes($"Content-Length: {contentLength ?? body.Length}\r\n\r\n");
        await _in.WriteAsync(header);
        await _in.WriteAsync(body);
        await _in.FlushAsync();
    }

    public async Task<int> SendAsync(string method, object? parameters)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method };
        if (parameters is not null) message["params"] = JsonSerializer.SerializeToNode(parameters);
        await SendRawAsync(Encoding.UTF8.GetBytes(message.ToJsonString()));
        return id;
    }

    public async Task SendNotificationAsync(string method, object parameters)
    {
        var message = new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method, ["params"] = JsonSerializer.SerializeToNode(parameters) };
        await SendRawAsync(Encoding.UTF8.GetBytes(message.ToJsonString()));
    }

    /// <summary>Sends a request and returns its response (result or error).</summary>
    public async Task<JsonElement> CallAsync(string method, object? parameters = null)
    {
        var id = await SendAsync(method, parameters);
        var response = await ReadAsync();
        Assert.Equal(id, response.GetProperty("id").GetInt32());
        return response;
    }

    /// <summary>
    /// Sends a request with a workDoneToken and returns its result with the <c>$/progress</c> values that came for it,
    /// in order (the daemon sends the last before the answer).
    /// </summary>
    public async Task<(JsonElement Result, List<JsonElement> Progress)> ResultWithProgressAsync(string method, object parameters)
    {
        var token = $"progress-{Interlocked.Increment(ref _nextId)}";
        var body = JsonSerializer.SerializeToNode(parameters)!.AsObject();
        body["workDoneToken"] = token;
        var id = await SendAsync(method, body);
        var progress = new List<JsonElement>();
        while (true)
        {
            var message = await ReadAsync();
            if (message.TryGetProperty("method", out var name) && name.GetString() == "$/progress")
            {
                var p = message.GetProperty("params");
                if (p.GetProperty("token").GetString() == token) progress.Add(p.GetProperty("value"));
                continue;
            }
            Assert.Equal(id, message.GetProperty("id").GetInt32());
            Assert.False(message.TryGetProperty("error", out var error), $"{method} failed: {error}");
            return (message.GetProperty("result"), progress);
        }
    }

    public async Task<JsonElement> ResultAsync(string method, object? parameters = null)
    {
        var response = await CallAsync(method, parameters);
        Assert.False(response.TryGetProperty("error", out var error), $"{method} failed: {error}");
        return response.GetProperty("result");
    }

    /// <summary>Calls a method that must fail and returns (code, message).</summary>
    public async Task<(int Code, string Message, JsonElement Error)> ErrorAsync(string method, object? parameters = null)
    {
        var response = await CallAsync(method, parameters);
        Assert.True(response.TryGetProperty("error", out var error), $"{method} should have failed: {response}");
        return (error.GetProperty("code").GetInt32(), error.GetProperty("message").GetString()!, error);
    }

    /// <summary>Reads one framed message; anything on stdout that is not a frame fails the test.</summary>
    public async Task<JsonElement> ReadAsync()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        int? length = null;
        while (true)
        {
            var line = await ReadLineAsync(timeout.Token);
            if (line.Length == 0) break;
            var colon = line.IndexOf(':');
            Assert.True(colon > 0, $"stdout carried something that is not a header: '{line}'. stderr: {Stderr}");
            if (line[..colon].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[(colon + 1)..].Trim());
        }
        Assert.NotNull(length);
        var body = new byte[length.Value];
        await _out.ReadExactlyAsync(body, timeout.Token);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellation)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await _out.ReadAsync(one, cancellation) == 0) throw new EndOfStreamException($"the daemon closed stdout. stderr: {Stderr}");
            if (one[0] == '\n') return Encoding.ASCII.GetString(bytes.ToArray()).TrimEnd('\r');
            bytes.Add(one[0]);
        }
    }

    /// <summary>Closes stdin (as a client going away does) and waits for the daemon to exit.</summary>
    public async Task<int> CloseAndWaitAsync()
    {
        _in.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
