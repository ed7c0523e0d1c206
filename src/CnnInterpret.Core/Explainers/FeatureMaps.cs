using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Core.Explainers;

/// <param name="TopY">The row of the channel's largest value (its first, in row-major order), in the layer's own resolution.</param>
/// <param name="TopX">Its column.</param>
public sealed record ChannelStats(int Channel, float Min, float Max, float Mean, float Std, int TopY = 0, int TopX = 0);

/// <summary>The selected channels of a layer's output, rendered as a grid.</summary>
/// <param name="Shape">The layer's full output shape [C,H,W].</param>
/// <param name="Channels">The channels shown, in grid order.</param>
/// <param name="Values">The shown channels' values, [channels, H, W] row-major.</param>
public sealed record FeatureMapsResult(
    LayerInfo Layer,
    int[] Shape,
    int[] Channels,
    IReadOnlyList<ChannelStats> Stats,
    byte[] Png,
    float[] Values);

/// <summary>
/// Feature maps: the activations of a layer, channel by channel. Reads the cached forward pass, so
/// switching layers or pages on the same image runs no network.
/// </summary>
public static class FeatureMaps
{
    public const int PageSize = 64;

    /// <summary>Refuses a layer whose output is not a [C,H,W] map, before any work is done for it.</summary>
    public static void RequireSpatial(LayerInfo layer)
    {
        if (!layer.IsSpatial)
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"Layer '{layer.Name}' ({layer.DisplayName}, {layer.Kind}) outputs [{string.Join(", ", layer.OutputShape)}], not a [channels, height, width] map. " +
                "Feature maps need a conv, ReLU or pooling layer.");
    }

    public static FeatureMapsResult Explain(ImageActivations activations, LayerInfo layer, IReadOnlyList<int>? channels, GridOptions options)
    {
        RequireSpatial(layer);
        var activation = activations.Layers[layer.Name];
        int count = activation.Shape[0], h = activation.Shape[1], w = activation.Shape[2], plane = h * w;
        var selected = (channels is { Count: > 0 } ? channels : Enumerable.Range(0, Math.Min(PageSize, count))).ToArray();
        var invalid = selected.Where(c => c < 0 || c >= count).ToList();
        if (invalid.Count > 0)
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"Layer '{layer.Name}' has channels 0–{count - 1}; {string.Join(", ", invalid.Take(5))} {(invalid.Count == 1 ? "is" : "are")} out of range.");

        var values = new float[selected.Length * plane];
        var stats = new ChannelStats[selected.Length];
        for (var i = 0; i < selected.Length; i++)
        {
            var source = activation.Data.AsSpan(selected[i] * plane, plane);
            source.CopyTo(values.AsSpan(i * plane));
            stats[i] = Describe(selected[i], source, w);
        }
        using var grid = ChannelGrid.Render(values, selected.Length, h, w, options);
        return new FeatureMapsResult(layer, activation.Shape, selected, stats, ChannelGrid.ToPng(grid), values);
    }

    /// <summary>A channel's range, mean, spread and where it is largest; <paramref name="width"/> is the map's (values are [H,W] row-major).</summary>
    public static ChannelStats Describe(int channel, ReadOnlySpan<float> values, int width)
    {
        var (min, max) = ChannelGrid.Range(values);
        double sum = 0, squares = 0;
        var top = 0;
        for (var i = 0; i < values.Length; i++)
        {
            sum += values[i];
            if (values[i] > values[top] || float.IsNaN(values[top])) top = i;
        }
        var mean = sum / values.Length;
        foreach (var v in values) squares += (v - mean) * (v - mean);
        return new ChannelStats(channel, min, max, (float)mean, (float)Math.Sqrt(squares / values.Length), top / width, top % width);
    }

    /// <summary>Parses "A-B", "A" or "A,B,C-D" (inclusive ranges) into channel indices.</summary>
    public static int[] ParseChannels(string text)
    {
        var result = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var bounds = part.Split('-');
            if (bounds.Length is < 1 or > 2 || !bounds.All(b => int.TryParse(b, out _)))
                throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Cannot read channels '{text}'; write a range like 0-63 or a list like 1,5,9.");
            int from = int.Parse(bounds[0]), to = int.Parse(bounds[^1]);
            if (to < from) throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Channel range '{part}' runs backwards; write {to}-{from}.");
            result.AddRange(Enumerable.Range(from, to - from + 1));
        }
        return result.ToArray();
    }
}
