using System.Globalization;

namespace CnnInterpret.Core.Onnx;

/// <summary>
/// Groups and display names for the layers of an imported graph. Node names made by PyTorch's exporter
/// ("/layer1/layer1.0/conv1/Conv") carry the module tree: the group is its first part and the display
/// name the path. Other names ("Convolution249", or none) carry nothing, so layers are grouped by the
/// resolution they work at ("stage 2 (56x56)"), non-spatial ones form the "head", and the display name
/// counts the kind within its group ("stage2_conv3"). Preprocessing layers form the "preprocess" group.
/// </summary>
public static class OnnxLayerNames
{
    public sealed record Item(string Layer, string NodeName, string OpType, bool Preprocess, long[] OutputShape);

    public sealed record Names(string Group, string DisplayName);

    public static List<Names> Describe(IReadOnlyList<Item> layers)
    {
        var result = new List<Names>();
        var counts = new Dictionary<string, int>();
        var used = new HashSet<string>(layers.Select(l => l.Layer));
        var stage = 0;
        long[]? resolution = null;
        foreach (var layer in layers)
        {
            string group, slug;
            if (layer.Preprocess) (group, slug) = ("preprocess", "preprocess");
            else if (layer.NodeName.Contains('/'))
            {
                var parts = layer.NodeName.Split('/', StringSplitOptions.RemoveEmptyEntries);
                group = parts.Length > 1 ? parts[0] : "graph";
                result.Add(new Names(group, Unique(layer.NodeName.TrimStart('/'), layer, used)));
                continue;
            }
            else if (layer.OutputShape.Length >= 3)
            {
                var size = layer.OutputShape[2..];
                if (resolution is null || !resolution.SequenceEqual(size)) { stage++; resolution = size; }
                group = $"stage {stage} ({string.Join("x", size)})";
                slug = $"stage{stage}";
            }
            else (group, slug) = ("head", "head");
            var kind = Short(layer.OpType);
            var key = slug + "_" + kind;
            counts[key] = counts.GetValueOrDefault(key) + 1;
            result.Add(new Names(group, Unique(key + counts[key].ToString(CultureInfo.InvariantCulture), layer, used)));
        }
        return result;
    }

    private static string Unique(string name, Item layer, HashSet<string> used)
    {
        // The display name may equal the layer's own name, not another layer's (lookups accept both).
        if (name == layer.Layer) return name;
        var candidate = name;
        for (var k = 2; !used.Add(candidate); k++) candidate = $"{name}#{k}";
        return candidate;
    }

    private static string Short(string op) => op switch
    {
        "Conv" => "conv",
        "BatchNormalization" => "bn",
        "MaxPool" => "maxpool",
        "AveragePool" => "avgpool",
        "GlobalAveragePool" => "gap",
        "GlobalMaxPool" => "gmp",
        "Gemm" => "fc",
        _ => op.ToLowerInvariant(),
    };
}
