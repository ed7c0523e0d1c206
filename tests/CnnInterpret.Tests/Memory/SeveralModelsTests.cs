using System.Text.Json;
using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.TestSupport;
using CnnInterpret.Tests.Torchvision;

namespace CnnInterpret.Tests.Memory;

/// <summary>
/// Several models in one real daemon (issue 13, item 4): the loaded ones keep within the memory budget's share for
/// models, the least recently used going first; one unused for a while is unloaded; an unloaded one loads again on
/// demand; the log says each of these.
/// </summary>
public sealed class SeveralModelsTests
{
    private static readonly string Boot = Path.Combine(Repo.Samples, "ankle-boot-0.png");

    private static string[] Loaded(JsonElement info) => [.. info.GetProperty("loadedModels").EnumerateArray().Select(m => m.GetString()!)];

    /// <summary>Waits for a line in the daemon's log: stderr is read as it comes, and may lag the answer that followed it.</summary>
    private static async Task LogContainsAsync(DaemonProcess daemon, string text)
    {
        using var deadline = new CancellationTokenSource(DaemonProcess.Deadline);
        try
        {
            while (!daemon.Stderr.Contains(text, StringComparison.Ordinal)) await Task.Delay(50, deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"'{text}' is not in the daemon's log:\n{daemon.Stderr}");
        }
    }

    [Fact]
    public async Task Loading_past_the_budgets_share_for_models_unloads_the_least_recently_used_and_they_load_again_on_demand()
    {
        var vgg16 = TorchvisionFixtures.Get("vgg16").Path;
        // A budget of 720 MiB leaves 720 − 720/8 − 720/10 = 558 MiB (585 MB) for models. VGG16's weights are 553 MB,
        // ResNet18's features 45 MB, fashion-vgg's under 4 MB: VGG16 fits beside fashion-vgg, not beside both.
        await using var daemon = new DaemonProcess(null, "--memory-budget", "720");
        var before = await daemon.ResultAsync("image/predict", new { model = "fashion-vgg", image = Boot, topK = 1 });
        await daemon.ResultAsync("models/load", new { model = "resnet18-imagenet" });
        Assert.Equal(["fashion-vgg", "resnet18-imagenet"], Loaded(await daemon.ResultAsync("daemon/info")));

        var id = (await daemon.ResultAsync("models/load", new { model = "vgg16", weights = vgg16 })).GetProperty("id").GetString()!;
        Assert.Equal([id], Loaded(await daemon.ResultAsync("daemon/info")));
        await LogContainsAsync(daemon, "Unloaded model 'resnet18-imagenet' (");
        var log = daemon.Stderr;
        var fashion = log.IndexOf("Unloaded model 'fashion-vgg' (", StringComparison.Ordinal);
        var resnet = log.IndexOf("Unloaded model 'resnet18-imagenet' (", StringComparison.Ordinal);
        Assert.True(fashion >= 0 && resnet > fashion, $"expected fashion-vgg, then resnet18-imagenet unloaded, in the log:\n{log}");
        Assert.Contains("the loaded models passed the memory budget's 558 MiB for models", log);

        // Used again: loaded again, the same answer, and VGG16 (used more recently than it) stays beside it.
        var after = await daemon.ResultAsync("image/predict", new { model = "fashion-vgg", image = Boot, topK = 1 });
        Assert.Equal(before.GetProperty("top")[0].GetProperty("probability").GetDouble(), after.GetProperty("top")[0].GetProperty("probability").GetDouble());
        await LogContainsAsync(daemon, "Loaded model 'fashion-vgg' (");
        await LogContainsAsync(daemon, "of weights) again: it had been unloaded.");
        Assert.Equal(["fashion-vgg", id], Loaded(await daemon.ResultAsync("daemon/info")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_model_unused_for_the_unload_time_is_unloaded_and_loads_again_when_next_used()
    {
        await using var daemon = new DaemonProcess(null, "--unload-after", "2");
        var before = await daemon.ResultAsync("image/predict", new { model = "fashion-vgg", image = Boot, topK = 1 });
        Assert.Equal(["fashion-vgg"], Loaded(await daemon.ResultAsync("daemon/info")));

        // The daemon looks every second (half the unload time); wait for it, within a generous deadline.
        using var deadline = new CancellationTokenSource(DaemonProcess.Deadline);
        while (Loaded(await daemon.ResultAsync("daemon/info")).Length > 0) await Task.Delay(250, deadline.Token);
        await LogContainsAsync(daemon, "Unloaded model 'fashion-vgg' (");
        Assert.Contains("not used for 2 seconds", daemon.Stderr);

        var after = await daemon.ResultAsync("image/predict", new { model = "fashion-vgg", image = Boot, topK = 1 });
        Assert.Equal(before.GetProperty("top")[0].GetProperty("probability").GetDouble(), after.GetProperty("top")[0].GetProperty("probability").GetDouble());
        await LogContainsAsync(daemon, "of weights) again: it had been unloaded.");
        Assert.Equal(["fashion-vgg"], Loaded(await daemon.ResultAsync("daemon/info")));
    }
}
