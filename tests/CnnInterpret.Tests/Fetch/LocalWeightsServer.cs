using System.Net;
using System.Net.Sockets;

namespace CnnInterpret.Tests.Fetch;

/// <summary>
/// An HTTP server on 127.0.0.1 serving one file, with the failure modes a real download meets: honours
/// Range requests (206), can answer an error status, and can drop the connection part-way.
/// </summary>
public sealed class LocalWeightsServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly byte[] _content;
    private readonly Task _loop;

    public LocalWeightsServer(byte[] content)
    {
        _content = content;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }
    public string Url(string name) => $"http://127.0.0.1:{Port}/{name}";

    /// <summary>Status to answer instead of the file (e.g. 503), or null to serve it.</summary>
    public int? FailWith { get; set; }

    /// <summary>Drop the connection after this many bytes of the body, once.</summary>
    public long? DisconnectAfter { get; set; }

    public List<string?> RangeHeaders { get; } = new();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            var response = context.Response;
            try
            {
                lock (RangeHeaders) RangeHeaders.Add(context.Request.Headers["Range"]);
                if (FailWith is { } status)
                {
                    response.StatusCode = status;
                    response.Close();
                    continue;
                }
                long start = 0;
                if (context.Request.Headers["Range"] is { } range && range.StartsWith("bytes=", StringComparison.Ordinal))
                {
                    start = long.Parse(range["bytes=".Length..].TrimEnd('-').Split('-')[0]);
                    response.StatusCode = 206;
                    response.Headers["Content-Range"] = $"bytes {start}-{_content.Length - 1}/{_content.Length}";
                }
                response.ContentLength64 = _content.Length - start;
                if (DisconnectAfter is { } cut)
                {
                    DisconnectAfter = null;
                    await response.OutputStream.WriteAsync(_content.AsMemory((int)start, (int)cut));
                    await response.OutputStream.FlushAsync();
                    response.Abort(); // the connection drops mid-body
                    continue;
                }
                await response.OutputStream.WriteAsync(_content.AsMemory((int)start));
                response.Close();
            }
            catch (Exception)
            {
                try { response.Abort(); } catch (Exception) { }
            }
        }
    }

    public void Dispose()
    {
        if (!_listener.IsListening) return;
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
