using System.Text.Json;
using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Tests.Lime;

/// <summary>explain/lime and explain/shap over the real daemon's stdio, with $/progress partial results and cancellation.</summary>
public sealed class SamplingDaemonTests
{
    private static readonly string Boot = Path.Combine(Repo.Samples, "ankle-boot-0.png");

    /// <summary>
    /// Reads messages until the response to <paramref name="id"/> and the "end" progress of <paramref name="token"/> have
    /// both arrived, collecting the progress values; also says how many came before the response.
    /// </summary>
    private static async Task<(JsonElement Response, List<JsonElement> Progress, int BeforeResponse)> Collect(DaemonProcess daemon, int id, string token,
        Func<JsonElement, Task>? onProgress = null)
    {
        var progress = new List<JsonElement>();
        JsonElement? response = null;
        var before = 0;
        while (response is null || progress.Count == 0 || progress[^1].GetProperty("kind").GetString() != "end")
        {
            var message = await daemon.ReadAsync();
            if (message.TryGetProperty("id", out var got) && got.ValueKind == JsonValueKind.Number && got.GetInt32() == id)
            {
                response = message;
                before = progress.Count;
                if (message.TryGetProperty("error", out _)) break;
                continue;
            }
            if (message.GetProperty("method").GetString() == "$/progress" && message.GetProperty("params").GetProperty("token").GetString() == token)
            {
                var value = message.GetProperty("params").GetProperty("value");
                progress.Add(value);
                if (onProgress is not null) await onProgress(value);
            }
        }
        return (response.Value, progress, before);
    }

    [Theory]
    [InlineData("gradient")]
    [InlineData("kernel")]
    public async Task A_work_done_progress_ends_exactly_once(string method)
    {
        await using var daemon = new DaemonProcess();
        var id = await daemon.SendAsync("explain/shap", new { image = Boot, method, samples = 40, target = 9, workDoneToken = "one-end" });
        var (response, progress, _) = await Collect(daemon, id, "one-end");
        Assert.True(response.TryGetProperty("result", out _), response.ToString());
        // Anything still coming for the token arrives before the answer to a request sent after it.
        var after = await daemon.SendAsync("daemon/info", null);
        while (true)
        {
            var message = await daemon.ReadAsync();
            if (message.TryGetProperty("id", out var got) && got.ValueKind == JsonValueKind.Number && got.GetInt32() == after) break;
            if (message.TryGetProperty("method", out var m) && m.GetString() == "$/progress") progress.Add(message.GetProperty("params").GetProperty("value"));
        }
        Assert.Equal(1, progress.Count(p => p.GetProperty("kind").GetString() == "end"));
        Assert.Equal("begin", progress[0].GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Lime_streams_partial_results_then_answers_with_weights_pictures_and_raw_arrays()
    {
        await using var daemon = new DaemonProcess();
        var id = await daemon.SendAsync("explain/lime", new { image = Boot, samples = 600, seed = 4, raw = true, workDoneToken = "lime-1" });
        var (response, progress, beforeResponse) = await Collect(daemon, id, "lime-1");
        Assert.False(response.TryGetProperty("error", out var error), error.ToString());
        var result = response.GetProperty("result");

        var segments = result.GetProperty("segments").GetInt32();
        var weights = result.GetProperty("weights").EnumerateArray().Select(w => w.GetSingle()).ToArray();
        Assert.Equal(segments, weights.Length);
        Assert.Equal("9", result.GetProperty("target").GetString());
        Assert.Equal(600, result.GetProperty("samples").GetInt32());
        Assert.Equal("probability", result.GetProperty("score").GetString());
        Assert.InRange(result.GetProperty("r2").GetDouble(), 0, 1);
        using (var png = Image.Load<Rgb24>(Convert.FromBase64String(result.GetProperty("png").GetString()!))) Assert.True(png.Width > 448);
        var ids = new int[784];
        Buffer.BlockCopy(Convert.FromBase64String(result.GetProperty("rawSegments").GetProperty("data").GetString()!), 0, ids, 0, 784 * 4);
        Assert.Equal(Enumerable.Range(0, segments), ids.Distinct().Order());
        var map = new float[784];
        Buffer.BlockCopy(Convert.FromBase64String(result.GetProperty("raw").GetProperty("data").GetString()!), 0, map, 0, 784 * 4);
        for (var p = 0; p < 784; p++) Assert.Equal(weights[ids[p]], map[p]);

        // Progress: begin … end, each with the weights so far and a picture; the last one is the result itself. The
        // first partial goes out while the request runs (the panel redraws from it), not after the answer.
        Assert.True(progress.Count >= 2, $"{progress.Count} progress messages");
        Assert.True(beforeResponse >= 1, "no partial result arrived before the response");
        Assert.Equal("begin", progress[0].GetProperty("kind").GetString());
        Assert.Equal("end", progress[^1].GetProperty("kind").GetString());
        var last = progress[^1].GetProperty("partial");
        Assert.Equal(600, last.GetProperty("samples").GetInt32());
        Assert.Equal(weights, last.GetProperty("values")[0].EnumerateArray().Select(w => w.GetSingle()));
        using (var partialPng = Image.Load<Rgb24>(Convert.FromBase64String(progress[0].GetProperty("partial").GetProperty("png").GetString()!)))
            Assert.True(partialPng.Width > 448);
        Assert.Equal(0, await daemon.CloseAndWaitAsync());
    }

    [Fact]
    public async Task Cancelling_shap_returns_promptly_with_the_last_partial_result()
    {
        await using var daemon = new DaemonProcess();
        var id = await daemon.SendAsync("explain/shap", new { image = Boot, method = "kernel", samples = 100000, memoryBudgetMiB = 1, workDoneToken = "shap-1" });
        var cancelled = false;
        var (response, progress, _) = await Collect(daemon, id, "shap-1", async value =>
        {
            if (cancelled || value.GetProperty("partial").ValueKind != JsonValueKind.Object) return;
            cancelled = true;
            await daemon.SendRawAsync(System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { jsonrpc = "2.0", method = "$/cancelRequest", @params = new { id } })));
        });
        Assert.True(cancelled);
        Assert.False(response.TryGetProperty("error", out var error), error.ToString());
        var result = response.GetProperty("result");
        Assert.True(result.GetProperty("cancelled").GetBoolean());
        var samples = result.GetProperty("samples").GetInt32();
        Assert.InRange(samples, 4, 20_000); // stopped long before 100000
        Assert.Equal(2, result.GetProperty("targets").GetArrayLength());
        foreach (var t in result.GetProperty("targets").EnumerateArray())
            Assert.Equal(t.GetProperty("fx").GetDouble() - t.GetProperty("fbaseline").GetDouble(), t.GetProperty("values").EnumerateArray().Sum(v => (double)v.GetSingle()), 4);
        Assert.Equal(samples, progress[^1].GetProperty("partial").GetProperty("samples").GetInt32());

        // The daemon keeps serving.
        var again = await daemon.ResultAsync("explain/shap", new { image = Boot, method = "gradient", samples = 20, target = 9 });
        Assert.Equal("gradient", again.GetProperty("method").GetString());
        Assert.Equal([1, 28, 28], again.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        var bad = await daemon.ErrorAsync("explain/lime", new { image = Boot, samples = 0 });
        Assert.Equal(1004, bad.Code);
        Assert.Contains("between 10 and 100000", bad.Message);
        bad = await daemon.ErrorAsync("explain/shap", new { image = Boot, method = "gradient", layer = "classifier.0" });
        Assert.Contains("[channels, height, width]", bad.Message);
    }
}
