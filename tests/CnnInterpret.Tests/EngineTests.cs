using CnnInterpret.Core;
using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Tests.TestSupport;
using TorchSharp;

namespace CnnInterpret.Tests;

public sealed class EngineTests
{
    private static string Sample(string name = "bag-0.png") => Path.Combine(Repo.Samples, name);

    [Fact]
    public void Switching_layers_on_the_same_image_runs_no_new_forward_pass()
    {
        using var engine = Repo.NewEngine();
        engine.FeatureMaps("fashion-vgg", Sample(), "features.0");
        Assert.Equal(1, engine.ForwardPasses);
        foreach (var layer in new[] { "block1_conv2", "features.4", "block3_conv1", "features.14" })
            engine.FeatureMaps("fashion-vgg", Sample(), layer);
        engine.Predict("fashion-vgg", Sample());
        Assert.Equal(1, engine.ForwardPasses);

        // The cache is keyed by content, not by path: a copy of the same bytes is a hit too.
        var copy = Path.Combine(Repo.TempDir(), "copy.png");
        File.Copy(Sample(), copy);
        engine.FeatureMaps("fashion-vgg", copy, "features.0");
        Assert.Equal(1, engine.ForwardPasses);
        engine.FeatureMaps("fashion-vgg", Sample("trouser-0.png"), "features.0");
        Assert.Equal(2, engine.ForwardPasses);
    }

    [Fact]
    public void Feature_maps_are_the_layers_activations_with_their_statistics()
    {
        using var engine = Repo.NewEngine();
        var result = engine.FeatureMaps("fashion-vgg", Sample(), "features.1", [3, 0, 15]);
        Assert.Equal([16, 28, 28], result.Shape);
        Assert.Equal([3, 0, 15], result.Channels);
        var activations = engine.Activations(Repo.FashionVgg, Sample());
        var all = activations.Layers["features.1"].Data;
        Assert.Equal(all.AsSpan(3 * 784, 784).ToArray(), result.Values.AsSpan(0, 784).ToArray());
        Assert.Equal(all.AsSpan(15 * 784, 784).ToArray(), result.Values.AsSpan(2 * 784, 784).ToArray());
        var channel = all.AsSpan(0, 784).ToArray();
        Assert.Equal(channel.Min(), result.Stats[1].Min);
        Assert.Equal(channel.Max(), result.Stats[1].Max);
        Assert.Equal(channel.Average(), result.Stats[1].Mean, 4);
        Assert.True(channel.Min() >= 0, "a ReLU output is never negative");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], result.Png.Take(4));
    }

    [Fact]
    public void Layers_without_a_spatial_map_and_bad_channels_get_clear_errors()
    {
        using var engine = Repo.NewEngine();
        var e = Assert.Throws<CnnInterpretException>(() => engine.FeatureMaps("fashion-vgg", Sample(), "fc1"));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("fc1", e.Message);
        e = Assert.Throws<CnnInterpretException>(() => engine.FeatureMaps("fashion-vgg", Sample(), "features.0", [16]));
        Assert.Contains("0–15", e.Message);
        e = Assert.Throws<CnnInterpretException>(() => engine.FeatureMaps("no-such-model", Sample(), "features.0"));
        Assert.Equal(ErrorKind.UnknownModel, e.Kind);
        Assert.Contains("fashion-vgg", e.Message);
    }

    [Fact]
    public void Top_k_probabilities_are_a_softmax_of_the_logits()
    {
        var prediction = Predictions.FromLogits([1f, 3f, 2f], ["a", "b", "c"], 3);
        Assert.Equal(["b", "c", "a"], prediction.Top.Select(t => t.Label));
        var z = Math.Exp(1) + Math.Exp(3) + Math.Exp(2);
        Assert.Equal(Math.Exp(3) / z, prediction.Top[0].Probability, 12);
        Assert.Equal(Math.Exp(1) / z, prediction.Top[2].Probability, 12);
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<CnnInterpretException>(() => Predictions.FromLogits([1f], ["a"], 0)).Kind);
    }

    [Fact]
    public void Channel_ranges_parse()
    {
        Assert.Equal([0, 1, 2, 3], FeatureMaps.ParseChannels("0-3"));
        Assert.Equal([5], FeatureMaps.ParseChannels("5"));
        Assert.Equal([1, 7, 8, 9], FeatureMaps.ParseChannels("1, 7-9"));
        Assert.Throws<CnnInterpretException>(() => FeatureMaps.ParseChannels("9-7"));
        Assert.Throws<CnnInterpretException>(() => FeatureMaps.ParseChannels("a-b"));
    }

    [Fact]
    public void The_cache_evicts_least_recently_used_entries_beyond_its_budget()
    {
        ImageActivations Entry(string hash) => new(hash, new float[250], new Dictionary<string, Activation>(), []);
        var cache = new ActivationCache(budgetBytes: 2500); // room for two 1000-byte entries
        cache.GetOrAdd("a", () => Entry("a"));
        cache.GetOrAdd("b", () => Entry("b"));
        cache.GetOrAdd("a", () => throw new InvalidOperationException("a is cached"));
        cache.GetOrAdd("c", () => Entry("c")); // evicts b, the least recently used
        Assert.Equal(2, cache.Count);
        var recomputed = false;
        cache.GetOrAdd("b", () => { recomputed = true; return Entry("b"); });
        Assert.True(recomputed);
        Assert.Equal(2000, cache.Bytes);
    }
}

[Collection(SerialTorch.Name)]
public sealed class TensorLeakTests
{
    [Fact]
    public void Requests_leave_no_live_tensors_behind()
    {
        var model = Repo.FashionVgg; // loading creates the parameters: do it before counting
        using var engine = new Engine(Repo.Registry, new ActivationCache(budgetBytes: 0)); // no caching: every request runs the network
        engine.FeatureMaps("fashion-vgg", Path.Combine(Repo.Samples, "bag-0.png"), "features.0");
        // Other tests' undisposed tensors die in finalizers, which would lower the count mid-test: flush them first.
        // (No collection after the loop: a tensor this code forgets must still be counted, not finalized away.)
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = torch.Tensor.TotalCount;
        foreach (var sample in Directory.GetFiles(Repo.Samples, "*.png").Take(10))
        {
            engine.FeatureMaps(model.Id, sample, "block2_conv1");
            engine.Predict(model.Id, sample);
            Assert.Throws<CnnInterpretException>(() => engine.FeatureMaps(model.Id, sample, "fc2"));
        }
        Assert.Equal(20 + 1, engine.ForwardPasses);
        Assert.Equal(before, torch.Tensor.TotalCount);
    }
}
