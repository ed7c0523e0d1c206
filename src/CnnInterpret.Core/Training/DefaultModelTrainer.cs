using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Training;

public sealed record TrainingOptions(
    string DataDirectory,
    string ModelsDirectory,
    int Epochs = 15,
    int BatchSize = 64,
    double LearningRate = 1e-3,
    int Seed = 42,
    int SamplesPerClass = 3,
    int SubsetSize = 1000);

public sealed record TrainingReport(double TestAccuracy, double SubsetAccuracy, double Seconds, string WeightsPath, string Sha256, long WeightBytes);

/// <summary>
/// Trains the embedded <c>fashion-vgg</c> model: Adam with a cosine learning-rate decay, random horizontal
/// flips, seeded end to end. Writes the weights (safetensors), their sha256 and the measured accuracies into
/// models.json, and a few held-out test images per class into models/samples.
/// </summary>
public static class DefaultModelTrainer
{
    public static TrainingReport Train(TrainingOptions options, Action<string> log, CancellationToken cancellation = default)
    {
        var manifestPath = Path.Combine(options.ModelsDirectory, "models.json");
        var entry = ModelManifest.Load(manifestPath).Models.Single(m => m.Id == ModelRegistry.DefaultModelId);
        var train = FashionMnist.Load(options.DataDirectory, train: true);
        var test = FashionMnist.Load(options.DataDirectory, train: false);
        log($"Fashion-MNIST: {train.Count} training and {test.Count} test images from {options.DataDirectory}");

        torch.manual_seed(options.Seed);
        using var model = ModelRegistry.BuildUntrained(entry);
        var network = model.Network;
        using var trainX = ToTensor(train, entry.Input);
        using var trainY = torch.tensor(train.Labels.Select(b => (long)b).ToArray());
        using var optimizer = torch.optim.Adam(network.parameters(), options.LearningRate);
        var batchesPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
        var scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, options.Epochs * batchesPerEpoch);
        var generator = new torch.Generator((ulong)options.Seed);

        var clock = Stopwatch.StartNew();
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            network.train();
            using var order = torch.randperm(train.Count, generator: generator);
            double lossSum = 0;
            for (var b = 0; b < batchesPerEpoch; b++)
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var index = order.narrow(0, b * options.BatchSize, Math.Min(options.BatchSize, train.Count - b * options.BatchSize));
                var x = trainX.index_select(0, index);
                var flip = torch.rand([x.shape[0], 1, 1, 1], generator: generator) < 0.5;
                x = torch.where(flip, x.flip(3), x);
                var (logits, _) = model.Forward(x);
                var loss = nn.functional.cross_entropy(logits, trainY.index_select(0, index));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                scheduler.step();
                lossSum += loss.item<float>();
                if ((b + 1) % 200 == 0 || b + 1 == batchesPerEpoch)
                    log($"epoch {epoch}/{options.Epochs}  batch {b + 1}/{batchesPerEpoch}  loss {lossSum / (b + 1):F4}  {clock.Elapsed.TotalSeconds:F0} s");
            }
            log($"epoch {epoch}/{options.Epochs}: test accuracy {Evaluate(model, test, test.Count):P2}");
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var accuracy = Evaluate(model, test, test.Count);
        var subsetAccuracy = Evaluate(model, test, options.SubsetSize);

        var weightsPath = Path.Combine(options.ModelsDirectory, entry.Weights!.File);
        SafeTensors.Save(weightsPath, model.StateDict(), new Dictionary<string, string>
        {
            ["model"] = entry.Id, ["dataset"] = "Fashion-MNIST", ["test_accuracy"] = accuracy.ToString("F4"),
        });
        var sha = ModelRegistry.Sha256File(weightsPath);
        RecordInManifest(manifestPath, entry.Id, sha, new ModelMetrics(accuracy, options.SubsetSize, subsetAccuracy, Math.Round(seconds), options.Epochs, options.Seed));
        WriteSamples(test, entry, Path.Combine(options.ModelsDirectory, "samples"), options.SamplesPerClass);
        log($"test accuracy {accuracy:P2}; first {options.SubsetSize}: {subsetAccuracy:P2}; {seconds:F0} s; weights {new FileInfo(weightsPath).Length / 1024} KiB, sha256 {sha}");
        return new TrainingReport(accuracy, subsetAccuracy, seconds, weightsPath, sha, new FileInfo(weightsPath).Length);
    }

    /// <summary>Top-1 accuracy of <paramref name="model"/> on the first <paramref name="count"/> images of a split.</summary>
    public static double Evaluate(CnnModel model, MnistSplit split, int count, int batchSize = 500)
    {
        model.Network.eval();
        using var _ = no_grad();
        var correct = 0;
        for (var start = 0; start < count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var n = Math.Min(batchSize, count - start);
            var x = ToTensor(split, model.Input, start, n);
            var (logits, _) = model.Forward(x);
            var predicted = logits.argmax(1).data<long>().ToArray();
            for (var i = 0; i < n; i++)
                if (predicted[i] == split.Labels[start + i]) correct++;
        }
        return (double)correct / count;
    }

    /// <summary>Images [start, start+count) as a normalised [N,1,H,W] tensor, the same numbers the image path gives.</summary>
    public static Tensor ToTensor(MnistSplit split, Preprocessing spec, int start = 0, int count = -1)
    {
        if (count < 0) count = split.Count - start;
        var plane = split.Rows * split.Columns;
        var data = new float[count * plane];
        for (var i = 0; i < data.Length; i++) data[i] = split.Images[start * plane + i] / 255f;
        ImagePreprocessor.NormaliseInPlace(data, spec); // one channel: the whole batch is that channel's plane
        return torch.tensor(data, [count, 1, split.Rows, split.Columns]);
    }

    private static void RecordInManifest(string manifestPath, string id, string sha, ModelMetrics metrics)
    {
        var root = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        var model = root["models"]!.AsArray().First(m => (string?)m!["id"] == id)!;
        model["weights"]!["sha256"] = sha;
        model["metrics"] = JsonSerializer.SerializeToNode(metrics, ModelManifest.JsonOptions);
        File.WriteAllText(manifestPath, root.ToJsonString(ModelManifest.JsonOptions) + "\n");
    }

    /// <summary>The first <paramref name="perClass"/> test images of each class, as PNGs named after the class.</summary>
    private static void WriteSamples(MnistSplit test, ModelEntry entry, string directory, int perClass)
    {
        Directory.CreateDirectory(directory);
        var counts = new int[entry.Classes.Count];
        var labels = new JsonObject();
        for (var i = 0; i < test.Count && counts.Any(c => c < perClass); i++)
        {
            var label = test.Labels[i];
            if (counts[label] >= perClass) continue;
            var name = $"{Slug(entry.Classes[label])}-{counts[label]++}.png";
            using var image = Image.LoadPixelData<L8>(test.Image(i), test.Columns, test.Rows);
            image.SaveAsPng(Path.Combine(directory, name));
            labels[name] = new JsonObject { ["label"] = label, ["class"] = entry.Classes[label], ["testIndex"] = i };
        }
        File.WriteAllText(Path.Combine(directory, "labels.json"), labels.ToJsonString(ModelManifest.JsonOptions) + "\n");
    }

    private static string Slug(string name) =>
        string.Join("-", name.ToLowerInvariant().Split(['/', ' '], StringSplitOptions.RemoveEmptyEntries));
}
