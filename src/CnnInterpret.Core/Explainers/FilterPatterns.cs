using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <param name="Preset">"readable" (default) or "classic"; see <see cref="FilterPatternPreset"/>.</param>
/// <param name="Steps">Ascent steps; default the preset's.</param>
/// <param name="Size">Side of the square pattern in pixels; default the model's input size.</param>
/// <param name="BatchSize">Channels optimised together; default all requested at once (the answer is the same for every batch size).</param>
/// <param name="UseCache">Read and write the disk cache.</param>
public sealed record FilterPatternOptions(string? Preset = null, int? Steps = null, int Seed = 0, int? Size = null, int? BatchSize = null, bool UseCache = true);

/// <summary>One channel's pattern: its mean activation on the starting image and on the pattern as returned (the pixels shown).</summary>
public sealed record FilterPattern(int Channel, float ActivationBefore, float ActivationAfter, bool FromCache);

/// <summary>The patterns of some channels of a layer.</summary>
/// <param name="PatternShape">One pattern's shape [C,H,W] (C as the model's input: 1 gray, 3 RGB).</param>
/// <param name="Pixels">All patterns, [K,C,H,W] row-major, pixel values in [0,1], in the order of <see cref="Patterns"/>.</param>
/// <param name="GridPng">The patterns as a labelled grid.</param>
/// <param name="ForwardPasses">Passes through the truncated network this request ran (0 when every pattern came from the cache).</param>
public sealed record FilterPatternsResult(
    LayerInfo Layer,
    string Preset,
    int Steps,
    int Seed,
    int[] PatternShape,
    IReadOnlyList<FilterPattern> Patterns,
    float[] Pixels,
    byte[] GridPng,
    int ForwardPasses)
{
    public int[] Channels => Patterns.Select(p => p.Channel).ToArray();

    public ReadOnlySpan<float> PixelsOf(int index)
    {
        var size = PatternShape[0] * PatternShape[1] * PatternShape[2];
        return Pixels.AsSpan(index * size, size);
    }
}

/// <summary>
/// Filter patterns (activation maximisation, Erhan et al. 2009; Olah et al., "Feature Visualization", Distill 2017):
/// for each requested channel, the input that maximises the channel's mean activation, by gradient ascent through
/// the network cut after the layer (nothing past it runs). All channels of a request are one batch: item i ascends
/// channel i's mean alone, so the batch computes exactly what one-at-a-time runs would, in one pass per step.
/// The image's parametrisation and update are the preset's (<see cref="FilterPatternPreset"/>).
/// Deviation: at a ReLU layer a dead channel ascends the ReLU's input until it comes alive (see <see cref="Objective"/>).
/// </summary>
public static class FilterPatterns
{
    public const int PageSize = 64;

    /// <summary>
    /// Optimises <paramref name="channels"/> of <paramref name="layer"/> in batches of <paramref name="batchSize"/>.
    /// Returns pixels [K,C,size,size] in [0,1], each channel's mean activation before and after, and the passes run.
    /// Reports progress per step and stops between steps when cancelled.
    /// </summary>
    public static (float[] Pixels, float[] Before, float[] After, int Passes) Optimise(CnnModel model, LayerInfo layer, int[] channels,
        FilterPatternPreset preset, int steps, int seed, int size, int batchSize, IProgress<ExplainProgress>? progress, CancellationToken cancellation)
    {
        var c = model.Input.ChannelCount;
        var plane = c * size * size;
        var pixels = new float[channels.Length * plane];
        float[] before = new float[channels.Length], after = new float[channels.Length];
        var passes = 0;
        var batches = channels.Chunk(Math.Max(1, batchSize)).ToList();
        var total = batches.Count * steps;
        var reluInput = ReluInput(model, layer);
        for (var b = 0; b < batches.Count; b++)
        {
            var batch = batches[b];
            var offset = b * Math.Max(1, batchSize);
            using var scope = NewDisposeScope();
            using var image = preset.Create(batch, c, size, size, seed);
            var index = tensor(batch.Select(ch => (long)ch).ToArray());
            using (no_grad()) Activation(model, layer, image.Display(), index).data<float>().CopyTo(before.AsSpan(offset, batch.Length));
            passes++;
            for (var step = 0; step < steps; step++)
            {
                cancellation.ThrowIfCancellationRequested();
                using var stepScope = NewDisposeScope();
                var objective = Objective(model, layer, reluInput, image.Augment(image.Pixels(), step), index).sum();
                image.Ascend(objective, step);
                passes++;
                progress?.Report(new ExplainProgress(b * steps + step + 1, total, $"filter patterns of {layer.Name}: step {step + 1}/{steps}" +
                    (batches.Count > 1 ? $", batch {b + 1}/{batches.Count}" : "")));
            }
            var shown = image.Display();
            shown.contiguous().data<float>().CopyTo(pixels.AsSpan(offset * plane, batch.Length * plane));
            using (no_grad()) Activation(model, layer, shown, index).data<float>().CopyTo(after.AsSpan(offset, batch.Length));
            passes++;
        }
        return (pixels, before, after, passes);
    }

    /// <summary>For a ReLU layer, the layer that feeds it (same shape); else null.</summary>
    public static LayerInfo? ReluInput(CnnModel model, LayerInfo layer)
    {
        var i = model.Layers.ToList().FindIndex(l => l.Name == layer.Name);
        return layer.Kind == "ReLU" && i > 0 && model.Layers[i - 1].OutputShape.SequenceEqual(layer.OutputShape) ? model.Layers[i - 1] : null;
    }

    /// <summary>
    /// What item i ascends: its channel's mean activation, [K]. At a ReLU, a channel that is dead (zero everywhere)
    /// has no gradient and would never move, so while it is dead the item ascends the ReLU's input instead (a per-item
    /// form of Lucid's "redirected ReLU" gradient); once any position is alive it ascends the true mean.
    /// </summary>
    private static Tensor Objective(CnnModel model, LayerInfo layer, LayerInfo? reluInput, Tensor pixels, Tensor channels)
    {
        if (reluInput is null) return ChannelMaps(model, layer, pixels, channels).mean([1]);
        var input = ChannelMaps(model, reluInput, pixels, channels);
        var output = input.relu().mean([1]);
        return where(output > 0, output, input.mean([1]));
    }

    /// <summary>Item i's mean activation of channel <paramref name="channels"/>[i] for pixels [K,C,H,W] in [0,1], [K].</summary>
    private static Tensor Activation(CnnModel model, LayerInfo layer, Tensor pixels, Tensor channels) =>
        ChannelMaps(model, layer, pixels, channels).mean([1]);

    /// <summary>Item i's map of channel <paramref name="channels"/>[i], flattened: [K, h·w] (or [K, 1] for a vector layer).</summary>
    private static Tensor ChannelMaps(CnnModel model, LayerInfo layer, Tensor pixels, Tensor channels)
    {
        var spec = model.Input;
        var mean = tensor(spec.Mean, [1, spec.ChannelCount, 1, 1]);
        var std = tensor(spec.Std, [1, spec.ChannelCount, 1, 1]);
        // The pattern's pixels are RGB (they are shown as a picture); a BGR network takes them reversed.
        var ordered = spec.Channels == "bgr" ? pixels.flip(1) : pixels;
        var output = model.ForwardTo((ordered - mean) / std, layer.Name);
        var k = output.shape[0];
        var flat = output.reshape(k, output.shape[1], -1);
        return flat.gather(1, channels.view(k, 1, 1).expand(k, 1, flat.shape[2])).squeeze(1);
    }

    /// <summary>The default channels: page <paramref name="page"/> of 64.</summary>
    public static int[] Page(LayerInfo layer, int page)
    {
        var count = layer.OutputShape[0];
        var first = page * PageSize;
        if (page < 0 || first >= count)
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"Layer '{layer.Name}' has {count} channels in {(count + PageSize - 1) / PageSize} page(s) of {PageSize}; page {page} does not exist.");
        return Enumerable.Range(first, Math.Min(PageSize, count - first)).ToArray();
    }

    public static void RequireChannels(LayerInfo layer, IReadOnlyList<int> channels)
    {
        var count = layer.OutputShape[0];
        var invalid = channels.Where(ch => ch < 0 || ch >= count).ToList();
        if (channels.Count == 0)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"No channels asked for; layer '{layer.Name}' has channels 0–{count - 1}.");
        if (invalid.Count > 0)
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"Layer '{layer.Name}' has channels 0–{count - 1}; {string.Join(", ", invalid.Take(5))} {(invalid.Count == 1 ? "is" : "are")} out of range.");
    }
}
