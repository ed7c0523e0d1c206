using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Core.Models;
using CnnInterpret.Core.Models.Checkpoints;
using CnnInterpret.Tests.TestSupport;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Checkpoints;

/// <summary>Checkpoints written by real PyTorch (fixtures/make_checkpoint_fixtures.py), in both of its file formats.</summary>
public sealed class TorchCheckpointTests
{
    private static string Fixture(string name) => Path.Combine(Repo.Root, "tests", "CnnInterpret.Tests", "Checkpoints", "fixtures", name);

    [Theory]
    [InlineData("tiny-vgg_zip.pth")]
    [InlineData("tiny-vgg_legacy.pth")]
    [InlineData("wrapped.pth")]
    public void A_vgg_state_dict_loads_and_the_network_matches_pytorch(string file)
    {
        var expected = JsonDocument.Parse(File.ReadAllText(Fixture("tiny-vgg.json"))).RootElement;
        var architecture = expected.GetProperty("architecture").Deserialize<VggArchitecture>(ModelManifest.JsonOptions)!;
        using var model = new CnnModel("tiny", "Tiny", new Preprocessing("rgb", 32, [32, 32], [0, 0, 0], [1, 1, 1]),
            ["a", "b", "c", "d", "e"], architecture.BuildLayers());
        using var scope = NewDisposeScope();
        var state = TorchCheckpoint.Load(Fixture(file));
        Assert.Equal(expected.GetProperty("features.0.bias").EnumerateArray().Select(e => e.GetSingle()), state["features.0.bias"].data<float>().ToArray());
        model.LoadWeights(state, "fixture", file);

        using var _ = no_grad();
        var (logits, _) = model.Forward(linspace(-1, 1, 3 * 32 * 32).reshape(1, 3, 32, 32));
        var pytorch = expected.GetProperty("logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var ours = logits[0].data<float>().ToArray();
        for (var i = 0; i < pytorch.Length; i++) Assert.Equal(pytorch[i], ours[i], 5);
    }

    [Theory]
    [InlineData("dtypes_zip.pth")]
    [InlineData("dtypes_legacy.pth")]
    public void Dtypes_and_strided_views_are_rebuilt_exactly(string file)
    {
        using var scope = NewDisposeScope();
        var t = TorchCheckpoint.Load(Fixture(file));
        Assert.Equal([0.5f, -2f, 65504f], t["half"].to_type(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal([1.0 / 3.0, -1e-300], t["double"].data<double>().ToArray());
        Assert.Equal([7L, -9L, 1L << 40], t["long"].data<long>().ToArray());
        Assert.Equal([true, false, true], t["bool"].data<bool>().ToArray());
        Assert.Equal(new long[] { 4, 3 }, t["transposed"].shape);
        Assert.Equal([0f, 4f, 8f, 1f, 5f, 9f, 2f, 6f, 10f, 3f, 7f, 11f], t["transposed"].contiguous().data<float>().ToArray());
        Assert.Equal([1f, 5f, 9f], t["column"].contiguous().data<float>().ToArray());
        Assert.Empty(t["scalar"].shape);
        Assert.Equal(2.5f, t["scalar"].item<float>());
    }

    [Theory]
    [InlineData("evil_zip.pth")]
    [InlineData("evil_legacy.pth")]
    public void A_pickle_that_would_run_code_is_refused_and_nothing_runs(string file)
    {
        const string marker = "/tmp/cnn-interpret-evil-marker";
        File.Delete(marker);
        var e = Assert.Throws<CnnInterpretException>(() => TorchCheckpoint.Load(Fixture(file)));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains(file.Contains("zip") ? "posix.system" : "system", e.Message);
        Assert.Contains("never runs code", e.Message);
        Assert.False(File.Exists(marker), "the pickle's command ran");
    }

    [Fact]
    public void Truncated_empty_and_non_checkpoint_files_get_clear_errors()
    {
        var dir = Repo.TempDir();
        var bytes = File.ReadAllBytes(Fixture("tiny-vgg_legacy.pth"));
        foreach (var (name, content) in new[]
                 {
                     ("empty.pth", Array.Empty<byte>()),
                     ("truncated-legacy.pth", bytes[..(bytes.Length / 2)]),
                     ("truncated-zip.pth", File.ReadAllBytes(Fixture("tiny-vgg_zip.pth"))[..4000]),
                     ("text.pth", "not a checkpoint"u8.ToArray()),
                     ("garbage.zip", [(byte)'P', (byte)'K', 3, 4, 9, 9, 9, 9]),
                 })
        {
            var path = Path.Combine(dir, name);
            File.WriteAllBytes(path, content);
            var e = Assert.Throws<CnnInterpretException>(() => TorchCheckpoint.Load(path));
            Assert.Equal(ErrorKind.BadModelFile, e.Kind);
            Assert.Contains(name, e.Message);
        }
    }
}
