using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Core.Models;

/// <summary>
/// A VGG-family network described as data, the way torchvision's <c>cfgs</c> do it:
/// <see cref="Features"/> lists conv widths and "M" for a 2×2 max-pool; then an adaptive average pool to
/// <see cref="AvgPool"/>, a flatten, and a classifier of Linear/ReLU/Dropout per hidden width and a final
/// Linear. Module names match torchvision (<c>features.0</c>, <c>avgpool</c>, <c>classifier.6</c>), so
/// torchvision state_dicts load by name; display names follow Keras (<c>block1_conv1</c>, <c>fc1</c>).
/// </summary>
public sealed record VggArchitecture(
    int InChannels,
    IReadOnlyList<JsonElement> Features,
    int[] AvgPool,
    int[] Classifier,
    int NumClasses,
    double Dropout = 0.5,
    bool BatchNorm = false)
{
    /// <summary>torchvision's VGG16 (configuration "D"): 13 convs in 5 blocks, classifier 4096-4096-1000, 224×224 RGB.</summary>
    public static VggArchitecture Vgg16(int numClasses = 1000) =>
        FromWidths(3, TorchvisionArchitectures.VggConfig("vgg16"), [7, 7], [4096, 4096], numClasses);

    /// <summary>The feature config as widths, with 0 standing for a max-pool.</summary>
    public IEnumerable<int> FeatureWidths => Features.Select(e =>
        e.ValueKind == JsonValueKind.Number ? e.GetInt32()
        : e.GetString() == "M" ? 0
        : throw new CnnInterpretException(ErrorKind.BadModelFile, $"Unknown VGG feature entry '{e}'; use a conv width or \"M\"."));

    public static VggArchitecture FromWidths(int inChannels, IEnumerable<int> widths, int[] avgPool, int[] classifier, int numClasses, double dropout = 0.5)
        => new(inChannels,
            widths.Select(w => w == 0 ? JsonSerializer.SerializeToElement("M") : JsonSerializer.SerializeToElement(w)).ToList(),
            avgPool, classifier, numClasses, dropout);

    /// <summary>Builds the layers in forward order: (stable name, display name, kind, group, module).</summary>
    public IReadOnlyList<(string Name, string DisplayName, string Kind, string Group, Module<Tensor, Tensor> Module)> BuildLayers()
    {
        var layers = new List<(string, string, string, string, Module<Tensor, Tensor>)>();
        int index = 0, block = 1, convInBlock = 0, channels = InChannels;
        foreach (var width in FeatureWidths)
        {
            var group = $"block{block}";
            if (width == 0)
            {
                layers.Add(($"features.{index++}", $"{group}_pool", "MaxPool2d", group, MaxPool2d(2, 2)));
                block++;
                convInBlock = 0;
                continue;
            }
            convInBlock++;
            var conv = $"{group}_conv{convInBlock}";
            layers.Add(($"features.{index++}", conv, "Conv2d", group, Conv2d(channels, width, 3, padding: 1)));
            if (BatchNorm)
                layers.Add(($"features.{index++}", $"{conv}_bn", "BatchNorm2d", group, BatchNorm2d(width)));
            layers.Add(($"features.{index++}", $"{conv}_relu", "ReLU", group, ReLU()));
            channels = width;
        }
        layers.Add(("avgpool", "avgpool", "AdaptiveAvgPool2d", "head", AdaptiveAvgPool2d([AvgPool[0], AvgPool[1]])));
        layers.Add(("flatten", "flatten", "Flatten", "head", Flatten()));
        int features = channels * AvgPool[0] * AvgPool[1], ci = 0;
        for (var i = 0; i < Classifier.Length; i++)
        {
            var fc = $"fc{i + 1}";
            layers.Add(($"classifier.{ci++}", fc, "Linear", "classifier", Linear(features, Classifier[i])));
            layers.Add(($"classifier.{ci++}", $"{fc}_relu", "ReLU", "classifier", ReLU()));
            layers.Add(($"classifier.{ci++}", $"{fc}_dropout", "Dropout", "classifier", nn.Dropout(Dropout)));
            features = Classifier[i];
        }
        layers.Add(($"classifier.{ci}", "predictions", "Linear", "classifier", Linear(features, NumClasses)));
        return layers;
    }
}
