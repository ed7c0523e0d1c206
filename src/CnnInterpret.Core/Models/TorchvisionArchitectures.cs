namespace CnnInterpret.Core.Models;

/// <summary>The torchvision architectures whose checkpoints load by name, and the ImageNet preprocessing they share.</summary>
public static class TorchvisionArchitectures
{
    private static readonly Dictionary<string, int[]> VggConfigs = new()
    {
        ["vgg11"] = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        ["vgg13"] = [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        ["vgg16"] = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
        ["vgg19"] = [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0],
    };

    public static IReadOnlyList<string> Names { get; } =
        VggConfigs.Keys.SelectMany(v => new[] { v, v + "_bn" }).Concat(ResNetArchitecture.Variants.Keys).ToList();

    /// <summary>torchvision's ImageNet transform: resize 256, center crop 224, ImageNet mean and std.</summary>
    public static readonly Preprocessing ImageNet = new("rgb", 256, [224, 224], [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f], [255, 255, 255]);

    /// <summary>The canonical name of a supported architecture, or a clear error listing them.</summary>
    public static string Require(string arch)
    {
        var name = arch.ToLowerInvariant();
        return Names.Contains(name) ? name
            : throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"Unknown architecture '{arch}'. Supported: {string.Join(", ", Names)}.", new { architectures = Names });
    }

    public static IReadOnlyList<(string Name, string DisplayName, string Kind, string Group, TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Module)> BuildLayers(string arch, int numClasses = 1000)
    {
        var name = Require(arch);
        if (ResNetArchitecture.Variants.ContainsKey(name)) return ResNetArchitecture.BuildLayers(name, numClasses);
        var batchNorm = name.EndsWith("_bn", StringComparison.Ordinal);
        if (VggConfigs.TryGetValue(batchNorm ? name[..^3] : name, out var config))
            return (VggArchitecture.FromWidths(3, config, [7, 7], [4096, 4096], numClasses) with { BatchNorm = batchNorm }).BuildLayers();
        throw new InvalidOperationException($"'{name}' is listed but has no builder");
    }

    /// <summary>The number of classes of a state_dict's final layer.</summary>
    public static int ClassCount(IReadOnlyDictionary<string, TorchSharp.torch.Tensor> state, string arch)
    {
        var key = arch.StartsWith("resnet", StringComparison.OrdinalIgnoreCase) ? "fc.weight" : "classifier.6.weight";
        return state.TryGetValue(key, out var weight) && weight.shape.Length == 2 ? (int)weight.shape[0]
            : throw new CnnInterpretException(ErrorKind.BadModelFile,
                $"The checkpoint has no '{key}', so it is not a torchvision {arch}. Its keys start: {string.Join(", ", state.Keys.Take(6))}. Pass the right --arch.");
    }

    /// <summary>Which torchvision architecture a state_dict is for, from its keys (null when it is none of them).</summary>
    public static string? Infer(IReadOnlyDictionary<string, TorchSharp.torch.Tensor> state)
    {
        if (state.ContainsKey("fc.weight") && state.ContainsKey("layer1.0.conv1.weight"))
        {
            var bottleneck = state.ContainsKey("layer1.0.conv3.weight");
            var blocks = Enumerable.Range(1, 4).Select(l => state.Keys.Where(k => k.StartsWith($"layer{l}.", StringComparison.Ordinal))
                .Select(k => k.Split('.')[1]).Distinct().Count()).ToArray();
            return ResNetArchitecture.Variants.FirstOrDefault(v => v.Value.Bottleneck == bottleneck && v.Value.Blocks.SequenceEqual(blocks)).Key;
        }
        if (state.ContainsKey("classifier.6.weight"))
        {
            var convs = state.Count(kv => kv.Key.StartsWith("features.", StringComparison.Ordinal) && kv.Key.EndsWith(".weight", StringComparison.Ordinal) && kv.Value.shape.Length == 4);
            var batchNorm = state.Keys.Any(k => k.StartsWith("features.", StringComparison.Ordinal) && k.EndsWith(".running_mean", StringComparison.Ordinal));
            var vgg = VggConfigs.FirstOrDefault(c => c.Value.Count(w => w > 0) == convs).Key;
            return vgg is null ? null : batchNorm ? vgg + "_bn" : vgg;
        }
        return null;
    }

    /// <summary>A VGG configuration by name ("vgg16"): conv widths, 0 for a max-pool.</summary>
    public static int[] VggConfig(string name) => VggConfigs[name];
}
