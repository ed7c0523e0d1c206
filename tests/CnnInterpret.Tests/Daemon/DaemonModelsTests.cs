using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Tests.Fetch;
using CnnInterpret.Tests.TestSupport;
using CnnInterpret.Tests.Torchvision;

namespace CnnInterpret.Tests.Daemon;

/// <summary>models/list, models/fetch (with $/progress), models/add and models/load through the real daemon.</summary>
[Collection(SerialTorch.Name)] // loads VGG16: one at a time
public sealed class DaemonModelsTests
{
    [Fact]
    public async Task Fetch_with_progress_then_load_then_explain()
    {
        var fixture = TorchvisionFixtures.Get("vgg16");
        var modelsDir = TorchvisionFixtures.ModelsFolderPublishing(fixture);
        var cache = Repo.TempDir();
        using var mirror = new LocalWeightsServer(File.ReadAllBytes(fixture.Path));
        await using var daemon = new DaemonProcess(new Dictionary<string, string> { ["CNN_INTERPRET_MODELS_DIR"] = modelsDir, ["CNN_INTERPRET_CACHE"] = cache });

        var list = await daemon.ResultAsync("models/list");
        var vgg16 = list.GetProperty("models").EnumerateArray().First(m => m.GetProperty("id").GetString() == "vgg16");
        Assert.Equal("weights missing", vgg16.GetProperty("state").GetString());
        Assert.Equal(1000, vgg16.GetProperty("classCount").GetInt32());

        var (code, message, error) = await daemon.ErrorAsync("models/load", new { model = "vgg16" });
        Assert.Equal((int)ErrorKind.WeightsMissing, code);
        Assert.Contains("models fetch vgg16", message);
        Assert.Equal(fixture.File, error.GetProperty("data").GetProperty("details").GetProperty("file").GetString());

        // The fetch: progress notifications carry our token and climb to 100 %, then the result arrives.
        var id = await daemon.SendAsync("models/fetch", new { model = "vgg16", url = mirror.Url(fixture.File), workDoneToken = "fetch-1" });
        var percentages = new List<int>();
        JsonElement response;
        while (true)
        {
            var message_ = await daemon.ReadAsync();
            if (message_.TryGetProperty("method", out var method))
            {
                Assert.Equal("$/progress", method.GetString());
                Assert.Equal("fetch-1", message_.GetProperty("params").GetProperty("token").GetString());
                percentages.Add(message_.GetProperty("params").GetProperty("value").GetProperty("percentage").GetInt32());
                continue;
            }
            response = message_;
            break;
        }
        Assert.Equal(id, response.GetProperty("id").GetInt32());
        Assert.Equal(Path.Combine(cache, "weights", fixture.File), response.GetProperty("result").GetProperty("path").GetString());
        Assert.Equal(100, percentages[^1]);
        Assert.Equal(percentages.Order(), percentages);

        list = await daemon.ResultAsync("models/list");
        Assert.Equal("ready", list.GetProperty("models").EnumerateArray().First(m => m.GetProperty("id").GetString() == "vgg16").GetProperty("state").GetString());
        var model = await daemon.ResultAsync("models/load", new { model = "vgg16" });
        Assert.Equal(1000, model.GetProperty("classes").GetArrayLength());
        Assert.Equal("block5_conv3", model.GetProperty("layers").EnumerateArray().First(l => l.GetProperty("name").GetString() == "features.28").GetProperty("displayName").GetString());
        var maps = await daemon.ResultAsync("explain/featureMaps", new { model = "vgg16", image = Path.Combine(Repo.Samples, "coat-0.png"), layer = "block5_conv3", page = 7 });
        Assert.Equal(Enumerable.Range(448, 64), maps.GetProperty("channels").EnumerateArray().Select(c => c.GetInt32()));
        Assert.Equal(8, maps.GetProperty("pageCount").GetInt32());

        // A checkpoint file as a model: models/load registers it, and its id names it in later requests.
        var resnet = TorchvisionFixtures.Get("resnet18");
        var loaded = await daemon.ResultAsync("models/load", new { model = resnet.Path });
        var resnetId = loaded.GetProperty("id").GetString();
        var prediction = await daemon.ResultAsync("image/predict", new { model = resnetId, image = Path.Combine(Repo.Samples, "coat-0.png"), topK = 3 });
        Assert.Equal(3, prediction.GetProperty("top").GetArrayLength());
        (code, message, _) = await daemon.ErrorAsync("models/load", new { model = resnet.Path, arch = "vgg16" });
        Assert.Equal((int)ErrorKind.BadModelFile, code);
        Assert.Contains("classifier.6.weight", message);
        Assert.Equal(0, await daemon.CloseAndWaitAsync());
    }
}
