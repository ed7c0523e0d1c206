using System.Text.Json;
using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Memory;

/// <summary>The real daemon: oversized strings are refused before parsing, and closing stdin never disposes work in flight.</summary>
public sealed class DaemonMemoryTests
{
    private static readonly string Image = Path.Combine(Repo.Samples, "sandal-0.png");

    [Fact]
    public async Task A_message_with_a_huge_string_is_refused_with_its_id_without_echoing_it_and_the_daemon_keeps_serving()
    {
        await using var daemon = new DaemonProcess();
        var path = new string('a', 5_000_000) + ".png";
        var body = JsonSerializer.SerializeToUtf8Bytes(new { jsonrpc = "2.0", id = 41, method = "image/predict", @params = new { image = path } });
        await daemon.SendRawAsync(body);
        var refused = await daemon.ReadAsync();
        Assert.Equal(41, refused.GetProperty("id").GetInt32());
        var error = refused.GetProperty("error");
        Assert.Equal(-32602, error.GetProperty("code").GetInt32());
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains("5,000,004 bytes", message);
        Assert.True(message.Length < 400, message);

        var prediction = await daemon.ResultAsync("image/predict", new { image = Image, topK = 1 });
        Assert.Equal("Sandal", prediction.GetProperty("top")[0].GetProperty("label").GetString());
        Assert.DoesNotContain(new string('a', 1000), daemon.Stderr);
    }

    [Fact]
    public async Task A_path_longer_than_the_OS_allows_but_within_the_string_limit_is_refused_as_a_bad_image()
    {
        await using var daemon = new DaemonProcess();
        var (code, message, _) = await daemon.ErrorAsync("image/predict", new { image = "/tmp/" + new string('b', 10_000) + ".png" });
        Assert.Equal(1001, code);
        Assert.Contains("at most 4,096 bytes", message);
        Assert.True(message.Length < 400, message);
    }

    [Fact]
    public async Task Closing_stdin_during_a_long_request_answers_it_before_the_daemon_disposes_anything()
    {
        await using var daemon = new DaemonProcess();
        await daemon.ResultAsync("models/load", new { model = "fashion-vgg" });
        var id = await daemon.SendAsync("explain/lime", new { image = Image, samples = 3000 });
        await Task.Delay(500); // the request is under way
        var exit = daemon.CloseAndWaitAsync();
        var answer = await daemon.ReadAsync();
        Assert.Equal(id, answer.GetProperty("id").GetInt32());
        Assert.True(answer.TryGetProperty("result", out var result), $"the request in flight failed: {answer}");
        Assert.Equal(3000, result.GetProperty("samples").GetInt32());
        Assert.Equal(0, await exit);
        Assert.DoesNotContain("invalid", daemon.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Internal error", daemon.Stderr);
    }

    [Fact]
    public async Task A_budget_below_the_minimum_stops_the_daemon_with_a_usage_error()
    {
        await using var daemon = new DaemonProcess(null, "--memory-budget", "8");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await daemon.Process.WaitForExitAsync(timeout.Token);
        Assert.Equal(64, daemon.Process.ExitCode);
        await Task.Delay(200); // the last stderr line
        Assert.Contains("at least 64 MiB", daemon.Stderr);
    }
}
