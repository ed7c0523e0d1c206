using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Daemon;

/// <summary>Broken framing, oversized messages and floods: each gets an error and the daemon keeps serving.</summary>
public sealed class ProtocolAbuseTests
{
    private static readonly string Image = Path.Combine(Repo.Samples, "sandal-0.png");

    private static byte[] Frame(object message)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(message);
        return [.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body];
    }

    /// <summary>Reads until the response to <paramref name="id"/>; returns it and the parse errors seen before it.</summary>
    private static async Task<(JsonElement Response, List<string> ParseErrors)> ReadUntil(DaemonProcess daemon, int id)
    {
        var errors = new List<string>();
        while (true)
        {
            var message = await daemon.ReadAsync();
            var got = message.GetProperty("id");
            if (got.ValueKind == JsonValueKind.Number)
            {
                if (got.GetInt32() == id) return (message, errors);
                continue; // the answer to another request that survived
            }
            Assert.Equal(JsonValueKind.Null, got.ValueKind);
            Assert.Equal(-32700, message.GetProperty("error").GetProperty("code").GetInt32());
            errors.Add(message.GetProperty("error").GetProperty("message").GetString()!);
        }
    }

    [Theory]
    [InlineData("X-Header: 1\r\n\r\n", "no Content-Length")]
    [InlineData("Content-Length: twelve\r\n\r\n", "not a whole number")]
    [InlineData("hello, daemon\r\n\r\n", "not a 'Name: value' header")]
    public async Task A_broken_frame_is_answered_and_the_next_request_served(string frame, string expected)
    {
        await using var daemon = new DaemonProcess();
        await daemon.WriteBytesAsync(Encoding.ASCII.GetBytes(frame));
        await daemon.WriteBytesAsync(Frame(new { jsonrpc = "2.0", id = 1, method = "image/predict", @params = new { image = Image, topK = 1 } }));
        var (response, errors) = await ReadUntil(daemon, 1);
        Assert.Contains(errors, e => e.Contains(expected));
        Assert.Equal("Sandal", response.GetProperty("result").GetProperty("top")[0].GetProperty("label").GetString());
    }

    [Fact]
    public async Task A_content_length_that_lies_costs_at_most_that_message()
    {
        await using var daemon = new DaemonProcess();
        var good = Frame(new { jsonrpc = "2.0", id = 1, method = "daemon/info" });
        var lying = Encoding.ASCII.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"daemon/info\"}");
        await daemon.WriteBytesAsync([.. Encoding.ASCII.GetBytes($"Content-Length: {lying.Length - 10}\r\n\r\n"), .. lying]); // 10 bytes short
        await daemon.WriteBytesAsync(good);
        await daemon.WriteBytesAsync(Frame(new { jsonrpc = "2.0", id = 2, method = "image/predict", @params = new { image = Image, topK = 1 } }));
        var (response, errors) = await ReadUntil(daemon, 2);
        Assert.NotEmpty(errors);
        Assert.Equal("Sandal", response.GetProperty("result").GetProperty("top")[0].GetProperty("label").GetString());
    }

    [Fact]
    public async Task A_message_over_the_size_limit_is_refused_without_being_kept()
    {
        await using var daemon = new DaemonProcess(null, "--max-message-bytes", "100000");
        var huge = new { jsonrpc = "2.0", id = 5, method = "image/predict", @params = new { image = new string('x', 300_000) } };
        await daemon.WriteBytesAsync(Frame(huge));
        await daemon.WriteBytesAsync(Frame(new { jsonrpc = "2.0", id = 6, method = "daemon/info" }));
        var (response, errors) = await ReadUntil(daemon, 6);
        Assert.Contains(errors, e => e.Contains("over the limit of 100,000"));
        Assert.Equal("cpu", response.GetProperty("result").GetProperty("device").GetString());
    }

    [Fact]
    public async Task A_huge_content_length_is_answered_at_once_and_the_next_message_is_served()
    {
        await using var daemon = new DaemonProcess();
        // Declares ~100 TB and sends 40 bytes: waiting for the body would hang the connection for good.
        await daemon.WriteBytesAsync(Encoding.ASCII.GetBytes("Content-Length: 99999999999999\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"x\"}\r\n"));
        await daemon.WriteBytesAsync(Frame(new { jsonrpc = "2.0", id = 4, method = "daemon/info" }));
        var (response, errors) = await ReadUntil(daemon, 4);
        Assert.Contains(errors, e => e.Contains("99,999,999,999,999 bytes, over the limit"));
        Assert.Equal("cpu", response.GetProperty("result").GetProperty("device").GetString());
    }

    [Fact]
    public async Task Requests_sent_just_before_stdin_closes_are_answered_before_the_daemon_exits()
    {
        // What `printf '…' | cnn-interpret-daemon` does: the answers must come out, then the process ends.
        await using var daemon = new DaemonProcess();
        await daemon.WriteBytesAsync([
            .. Frame(new { jsonrpc = "2.0", id = 1, method = "image/predict", @params = new { image = Image, topK = 1 } }),
            .. Frame(new { jsonrpc = "2.0", id = 2, method = "daemon/info" }),
        ]);
        var exit = daemon.CloseAndWaitAsync();
        var answered = new HashSet<int>();
        while (answered.Count < 2) answered.Add((await daemon.ReadAsync()).GetProperty("id").GetInt32());
        Assert.Equal([1, 2], answered.Order());
        Assert.Equal(0, await exit);
    }

    [Fact]
    public async Task Two_hundred_requests_in_a_row_do_not_grow_memory()
    {
        await using var daemon = new DaemonProcess();
        var layers = new[] { "features.0", "features.5", "features.10", "features.14" };
        async Task Round(int n)
        {
            for (var i = 0; i < n; i++)
            {
                var sample = Directory.GetFiles(Repo.Samples, "*.png").Order().ElementAt(i % 30);
                await daemon.ResultAsync("explain/featureMaps", new { image = sample, layer = layers[i % layers.Length], raw = i % 2 == 0 });
            }
        }

        await Round(60); // warm up: every sample cached, every code path jitted
        var before = ResidentMiB(daemon.Process);
        await Round(200);
        var after = ResidentMiB(daemon.Process);
        Assert.True(after - before < 40, $"resident memory grew from {before} MiB to {after} MiB over 200 requests");
    }

    private static long ResidentMiB(Process process)
    {
        process.Refresh();
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        return process.WorkingSet64 / (1024 * 1024);
    }
}
