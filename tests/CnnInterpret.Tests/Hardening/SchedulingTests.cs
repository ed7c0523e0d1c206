using System.Diagnostics;
using System.Text.Json;
using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Hardening;

/// <summary>
/// Scheduling in the real daemon: a long LIME does not hold up a feature-map click, heavy requests queue behind
/// each other, and a cancelled request answers "cancelled" promptly while the daemon goes on serving.
/// </summary>
public sealed class SchedulingTests
{
    [Fact]
    public async Task A_feature_map_click_is_answered_while_lime_runs_and_lime_cancels_promptly()
    {
        await using var daemon = new DaemonProcess();
        await daemon.ResultAsync("image/predict", new { image = Path.Combine(Repo.Samples, "bag-1.png"), topK = 1 }); // warm the model

        var lime = await daemon.SendAsync("explain/lime", new { image = Path.Combine(Repo.Samples, "bag-1.png"), samples = 20000, workDoneToken = "lime" });
        var queued = await daemon.SendAsync("explain/lime", new { image = Path.Combine(Repo.Samples, "coat-2.png"), samples = 200 });
        // Wait until LIME reports progress: it is running, not merely queued.
        JsonElement message;
        do message = await daemon.ReadAsync(); while (!message.TryGetProperty("method", out _));

        var click = await daemon.SendAsync("explain/featureMaps", new { image = Path.Combine(Repo.Samples, "shirt-2.png"), layer = "block1_conv2" });
        var clickAnswered = false;
        while (!clickAnswered)
        {
            message = await daemon.ReadAsync();
            if (message.TryGetProperty("method", out _)) continue; // LIME's progress
            var id = message.GetProperty("id").GetInt32();
            Assert.True(id == click, $"request {id} finished before the feature-map click");
            Assert.True(message.TryGetProperty("result", out _), message.ToString());
            clickAnswered = true;
        }

        // Cancel the running LIME: it stops and answers with what it had (its partial result, marked cancelled), and the
        // queued one runs next.
        var clock = Stopwatch.StartNew();
        await daemon.SendNotificationAsync("$/cancelRequest", new { id = lime });
        var order = new List<int>();
        while (order.Count < 2)
        {
            message = await daemon.ReadAsync();
            if (message.TryGetProperty("method", out _)) continue;
            var id = message.GetProperty("id").GetInt32();
            order.Add(id);
            if (id == lime)
            {
                var result = message.GetProperty("result");
                Assert.True(result.GetProperty("cancelled").GetBoolean());
                Assert.InRange(result.GetProperty("samples").GetInt32(), 1, 19999);
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"cancellation took {clock.Elapsed}"); // bench measures the real figure
            }
            else Assert.True(message.TryGetProperty("result", out _), message.ToString());
        }
        Assert.Equal([lime, queued], order);
        Assert.Equal(0, await daemon.CloseAndWaitAsync());
    }
}
