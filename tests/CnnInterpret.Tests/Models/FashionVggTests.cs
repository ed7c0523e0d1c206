using System.Text.Json;
using CnnInterpret.Core.Models;
using CnnInterpret.Core.Training;
using CnnInterpret.Tests.TestSupport;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Models;

/// <summary>The embedded, trained default model: its layers, its weights' integrity and its accuracy.</summary>
public sealed class FashionVggTests
{
    [Fact]
    public void A_forward_pass_lets_each_layers_output_go_once_the_next_has_read_it_and_keeps_what_was_captured()
    {
        var model = Repo.FashionVgg;
        using var outer = NewDisposeScope();
        var input = randn(3, 1, 28, 28, generator: new Generator(5));
        var everything = model.Forward(input, model.Layers.Select(l => l.Name).ToHashSet());

        using var scope = NewDisposeScope();
        var (logits, captured) = model.Forward(input, new HashSet<string> { "features.9" });
        // 24 layers ran; alive in the caller's scope: the captured output, the logits, and the clone an in-place ReLU
        // makes of a captured input — not one tensor per layer, which a batch of perturbed VGG16 images would pay for.
        Assert.InRange(scope.DisposablesCount, 2, 4);
        Assert.Equal(everything.Captured["features.9"].data<float>().ToArray(), captured["features.9"].data<float>().ToArray());
        Assert.Equal(everything.Logits.data<float>().ToArray(), logits.data<float>().ToArray());

        // With gradients autograd keeps what the backward needs: the input's gradient is the same either way.
        using var grad = enable_grad();
        var x = input.detach().requires_grad_(true);
        var (scores, _) = model.Forward(x);
        var g = autograd.grad([scores[.., 3].sum()], [x])[0];
        var y = input.detach().requires_grad_(true);
        var all = model.Forward(y, model.Layers.Select(l => l.Name).ToHashSet()).Logits;
        var h = autograd.grad([all[.., 3].sum()], [y])[0];
        Assert.Equal(h.data<float>().ToArray(), g.data<float>().ToArray());
    }

    [Fact]
    public void Every_layer_has_the_expected_activation_shape()
    {
        var expected = new (string Name, string Display, int[] Shape)[]
        {
            ("features.0", "block1_conv1", [16, 28, 28]), ("features.1", "block1_conv1_relu", [16, 28, 28]),
            ("features.2", "block1_conv2", [16, 28, 28]), ("features.3", "block1_conv2_relu", [16, 28, 28]),
            ("features.4", "block1_pool", [16, 14, 14]),
            ("features.5", "block2_conv1", [32, 14, 14]), ("features.6", "block2_conv1_relu", [32, 14, 14]),
            ("features.7", "block2_conv2", [32, 14, 14]), ("features.8", "block2_conv2_relu", [32, 14, 14]),
            ("features.9", "block2_pool", [32, 7, 7]),
            ("features.10", "block3_conv1", [64, 7, 7]), ("features.11", "block3_conv1_relu", [64, 7, 7]),
            ("features.12", "block3_conv2", [64, 7, 7]), ("features.13", "block3_conv2_relu", [64, 7, 7]),
            ("features.14", "block3_pool", [64, 3, 3]),
            ("avgpool", "avgpool", [64, 3, 3]), ("flatten", "flatten", [576]),
            ("classifier.0", "fc1", [256]), ("classifier.1", "fc1_relu", [256]), ("classifier.2", "fc1_dropout", [256]),
            ("classifier.3", "fc2", [256]), ("classifier.4", "fc2_relu", [256]), ("classifier.5", "fc2_dropout", [256]),
            ("classifier.6", "predictions", [10]),
        };
        var model = Repo.FashionVgg;
        Assert.Equal(expected.Select(e => e.Name), model.Layers.Select(l => l.Name));
        Assert.Equal(expected.Select(e => e.Display), model.Layers.Select(l => l.DisplayName));
        foreach (var (layer, e) in model.Layers.Zip(expected)) Assert.Equal(e.Shape, layer.OutputShape);

        // And the shapes the table claims are the shapes a real forward pass produces.
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (logits, captured) = model.Forward(randn(2, 1, 28, 28), model.Layers.Select(l => l.Name).ToHashSet());
        foreach (var layer in model.Layers) Assert.Equal([2, .. layer.OutputShape.Select(d => (long)d)], captured[layer.Name].shape);
        Assert.Equal(new long[] { 2, 10 }, logits.shape);
    }

    [Fact]
    public void Its_weights_file_opens_as_a_model_file_with_the_same_predictions()
    {
        // What "open a model file while coding" does with models/fashion-vgg.safetensors: not a torchvision layout, so
        // the file is matched against the built-in architectures (or named with --arch fashion-vgg).
        using var engine = Repo.NewEngine();
        var file = Path.Combine(Repo.Models, "fashion-vgg.safetensors");
        var inferred = engine.Models.Register(file);
        var named = engine.Models.Register(file, arch: "fashion-vgg");
        var image = Path.Combine(Repo.Samples, "bag-0.png");
        var builtIn = engine.Predict("fashion-vgg", image).Logits;
        Assert.Equal(builtIn, engine.Predict(inferred.Id, image).Logits);
        Assert.Equal(builtIn, engine.Predict(named.Id, image).Logits);
        Assert.Equal(engine.GetModel("fashion-vgg").Classes, inferred.Classes);
        var reweighted = engine.Models.Register("fashion-vgg", weights: file); // --model fashion-vgg --weights FILE
        Assert.Equal(builtIn, engine.Predict(reweighted.Id, image).Logits);

        var other = Path.Combine(Repo.Root, "tests", "CnnInterpret.Tests", "Checkpoints", "fixtures", "tiny-vgg_zip.pth");
        var e = Assert.Throws<CnnInterpret.Core.CnnInterpretException>(() => engine.Models.Register(other));
        Assert.Contains("vgg16, vgg16_bn", e.Message);
        Assert.Contains("fashion-vgg", e.Message); // the built-in architectures are named too
    }

    [Fact]
    public void Weights_are_small_verified_and_readable_as_plain_safetensors()
    {
        var entry = Repo.Registry.GetEntry("fashion-vgg");
        var path = Path.Combine(Repo.Models, entry.Weights!.File);
        Assert.True(new FileInfo(path).Length <= 5 * 1024 * 1024, "the embedded weights must stay under 5 MB");
        Assert.Equal(entry.Weights.Sha256, ModelRegistry.Sha256File(path));
        Assert.Equal(entry.Weights.Sha256, Repo.FashionVgg.WeightsHash);
        Assert.Equal(10, entry.Classes.Count);
        Assert.Equal(Repo.FashionVgg.ParameterCount, Repo.FashionVgg.StateDict().Values.Sum(t => t.numel()));
    }

    [Fact]
    public void A_damaged_weights_file_is_refused_by_its_checksum()
    {
        var dir = Repo.TempDir();
        File.Copy(Path.Combine(Repo.Models, "models.json"), Path.Combine(dir, "models.json"));
        var weights = File.ReadAllBytes(Path.Combine(Repo.Models, "fashion-vgg.safetensors"));
        weights[^1] ^= 0xff;
        File.WriteAllBytes(Path.Combine(dir, "fashion-vgg.safetensors"), weights);
        using var registry = new ModelRegistry(dir);
        var e = Assert.Throws<CnnInterpret.Core.CnnInterpretException>(() => registry.Get("fashion-vgg"));
        Assert.Equal(CnnInterpret.Core.ErrorKind.BadModelFile, e.Kind);
        Assert.Contains("sha256", e.Message);
    }

    [Fact]
    public void Committed_samples_are_classified_as_labelled()
    {
        var labels = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Samples, "labels.json"))).RootElement;
        using var engine = Repo.NewEngine();
        int total = 0, correct = 0;
        foreach (var sample in labels.EnumerateObject())
        {
            total++;
            var prediction = engine.Predict("fashion-vgg", Path.Combine(Repo.Samples, sample.Name), 1);
            if (prediction.Top[0].Index == sample.Value.GetProperty("label").GetInt32()) correct++;
        }
        Assert.Equal(30, total);
        Assert.True(correct >= 27, $"{correct}/{total} committed samples classified correctly");
    }

    [Fact]
    public void Reproduces_its_recorded_accuracy_on_a_fixed_subset()
    {
        Assert.True(Repo.HasFashionMnist, "Fashion-MNIST is missing: scripts/test-deps.sh installs Debian's dataset-fashion-mnist");
        var metrics = Repo.Registry.GetEntry("fashion-vgg").Metrics!;
        var test = FashionMnist.Load(FashionMnist.ResolveDirectory(null), train: false);
        var accuracy = DefaultModelTrainer.Evaluate(Repo.FashionVgg, test, metrics.SubsetSize);
        Assert.Equal(metrics.SubsetAccuracy, accuracy, 3);
        Assert.True(metrics.TestAccuracy >= 0.90, $"recorded test accuracy {metrics.TestAccuracy}");
    }

    [Fact]
    public void The_image_path_gives_the_same_logits_as_the_dataset_path()
    {
        Assert.True(Repo.HasFashionMnist, "Fashion-MNIST is missing: scripts/test-deps.sh installs Debian's dataset-fashion-mnist");
        var test = FashionMnist.Load(FashionMnist.ResolveDirectory(null), train: false);
        var labels = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Samples, "labels.json"))).RootElement;
        using var engine = Repo.NewEngine();
        foreach (var sample in labels.EnumerateObject().Take(5))
        {
            var index = sample.Value.GetProperty("testIndex").GetInt32();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (logits, _) = Repo.FashionVgg.Forward(DefaultModelTrainer.ToTensor(test, Repo.FashionVgg.Input, index, 1));
            var viaPng = engine.Predict("fashion-vgg", Path.Combine(Repo.Samples, sample.Name), 10).Logits;
            var viaDataset = logits[0].data<float>().ToArray();
            for (var i = 0; i < 10; i++) Assert.Equal(viaDataset[i], viaPng[i], 4);
        }
    }
}
