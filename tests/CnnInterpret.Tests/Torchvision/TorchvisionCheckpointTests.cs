using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Core.Models;
using CnnInterpret.Tests.Fetch;
using CnnInterpret.Tests.TestSupport;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Torchvision;

/// <summary>torchvision checkpoints made by PyTorch load by name, infer their architecture and match PyTorch's outputs.</summary>
[Collection(SerialTorch.Name)] // VGG16 is 528 MB: one at a time
public sealed class TorchvisionCheckpointTests
{
    [Theory]
    [InlineData("vgg16")]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    [InlineData("vgg11_bn")]
    [InlineData("vgg13")]
    [InlineData("vgg19")]
    [InlineData("resnet34")]
    public void A_torchvision_checkpoint_matches_pytorch(string arch)
    {
        var fixture = TorchvisionFixtures.Get(arch);
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var model = registry.Get(fixture.Path); // the architecture is inferred from the state_dict's keys
        Assert.Equal(1000, model.Classes.Count);
        Assert.Equal("tench", model.Classes[0]);
        Assert.Equal(fixture.Sha256, model.WeightsHash);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (logits, _) = model.Forward(linspace(-2, 2, 3 * 224 * 224).reshape(1, 3, 224, 224));
        var ours = logits[0].data<float>().ToArray();
        var scale = fixture.Logits.Max(Math.Abs);
        var worst = ours.Zip(fixture.Logits, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-4 * Math.Max(1, scale), $"max |ours − PyTorch| = {worst} (logits up to {scale})");
        Assert.Equal(fixture.Top5, ours.Select((v, i) => (v, i)).OrderByDescending(p => p.v).Take(5).Select(p => p.i));
    }

    [Fact]
    public void Vgg16_with_weights_from_a_file_explains_a_photo_end_to_end()
    {
        var fixture = TorchvisionFixtures.Get("vgg16");
        using var engine = new Engine(new ModelRegistry(Repo.Models, Repo.TempDir()), ownsModels: true);
        var model = engine.Models.Register("vgg16", weights: fixture.Path);
        Assert.Equal("block5_conv3", model.GetLayer("features.28").DisplayName);
        var maps = engine.FeatureMaps(model.Id, Path.Combine(Repo.Samples, "bag-0.png"), "block5_conv3");
        Assert.Equal([512, 14, 14], maps.Shape);
        Assert.Equal(64, maps.Channels.Length);
        Assert.Equal(5, engine.Predict(model.Id, Path.Combine(Repo.Samples, "bag-0.png")).Top.Count);
    }

    [Fact]
    public void A_checkpoint_for_another_architecture_lists_what_does_not_fit()
    {
        var fixture = TorchvisionFixtures.Get("resnet18");
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var e = Assert.Throws<CnnInterpretException>(() => registry.Register(fixture.Path, arch: "resnet34"));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains("Missing: layer1.2.conv1.weight", e.Message);

        e = Assert.Throws<CnnInterpretException>(() => registry.Register("vgg16", weights: fixture.Path));
        Assert.Contains("classifier.6.weight", e.Message);

        e = Assert.Throws<CnnInterpretException>(() => registry.Register(fixture.Path, arch: "vgg99"));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("vgg16_bn", e.Message);
    }

    [Fact]
    public void Vgg16_without_weights_says_how_to_fetch_them()
    {
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var entry = registry.GetEntry("vgg16");
        Assert.Equal(ModelState.WeightsMissing, registry.State(entry));
        Assert.Equal(1000, registry.ClassesOf(entry).Count);
        var e = Assert.Throws<CnnInterpretException>(() => registry.Get("vgg16"));
        Assert.Equal(ErrorKind.WeightsMissing, e.Kind);
        Assert.Contains("models fetch vgg16", e.Message);
        Assert.Contains("models add vgg16", e.Message);
    }

    /// <summary>
    /// The whole user path through the real CLI: `models fetch vgg16 --url MIRROR` (progress bar, verification,
    /// cache folder), then `predict --model vgg16`. The published file cannot be had here, so a models.json that
    /// names the PyTorch-made fixture (by its own sha256 prefix, as torchvision names files) stands in.
    /// </summary>
    [Fact]
    public void Models_fetch_then_predict_through_the_cli_against_a_local_mirror()
    {
        var fixture = TorchvisionFixtures.Get("vgg16");
        var modelsDir = TorchvisionFixtures.ModelsFolderPublishing(fixture);
        var cache = Repo.TempDir();

        using var mirror = new LocalWeightsServer(File.ReadAllBytes(fixture.Path)) { DisconnectAfter = 100_000_000 };
        var (code, _, stderr) = Cli(modelsDir, "models", "fetch", "vgg16", "--url", mirror.Url(fixture.File), "--cache-dir", cache);
        Assert.Equal(1, code);
        Assert.Contains("again to resume", stderr);
        (code, var stdout, stderr) = Cli(modelsDir, "models", "fetch", "vgg16", "--url", mirror.Url(fixture.File), "--cache-dir", cache);
        Assert.True(code == 0, stderr);
        Assert.Equal(Path.Combine(cache, "weights", fixture.File), stdout.Trim());
        Assert.Contains("100 %", stderr); // the progress bar reached the end
        Assert.StartsWith("bytes=", mirror.RangeHeaders[^1]);

        (code, stdout, stderr) = Cli(modelsDir, "models", "list", "--json", "--cache-dir", cache);
        Assert.Equal("ready", JsonDocument.Parse(stdout).RootElement.EnumerateArray().First(m => m.GetProperty("id").GetString() == "vgg16").GetProperty("state").GetString());
        (code, stdout, stderr) = Cli(modelsDir, "predict", "--model", "vgg16", "--json", "--cache-dir", cache, Path.Combine(Repo.Samples, "bag-0.png"));
        Assert.True(code == 0, stderr);
        Assert.Equal(1000, JsonDocument.Parse(stdout).RootElement[0].GetProperty("logits").GetArrayLength());
    }

    private static (int Code, string Stdout, string Stderr) Cli(string modelsDir, params string[] args) => CliProcess.Run(args, modelsDir: modelsDir);
}
