using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <param name="Preset">"readable" (default), "classic" or "fast"; see <see cref="FilterPatternPreset"/>.</param>
/// <param name="Steps">Ascent steps; default the preset's.</param>
/// <param name="Size">Side of the square pattern in pixels; default the model's input size.</param>
/// <param name="BatchSize">Channels optimised together; default <see cref="FilterPatterns.DefaultBatchSize"/> (the answer is the same for every batch size).</param>
/// <param name="UseCache">Read and write the disk cache.</param>
public sealed record FilterPatternOptions(string? Preset = null, int? Steps = null, int Seed = 0, int? Size = null, int? BatchSize = null, bool UseCache = true);

/// <summary>One channel's pattern: its mean activation on the starting image and on the pattern as returned (the pixels shown).</summary>
/// <param name="Note">Set when the pattern needs a word of explanation, e.g. a channel that never responded to its input.</param>
public sealed record FilterPattern(int Channel, float ActivationBefore, float ActivationAfter, bool FromCache, string? Note = null);

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
/// the network cut after the layer (nothing past it runs). Channels go in batches: item i ascends channel i's mean
/// alone, so a batch computes exactly what one-at-a-time runs would, in one pass per step (or a few, where a step's
/// activations would outgrow <see cref="StepBytes"/>).
/// The image's parametrisation and update are the preset's (<see cref="FilterPatternPreset"/>).
/// Deviation: at a ReLU layer a dead channel ascends the ReLU's input until it comes alive (see <see cref="Objective"/>).
/// </summary>
public static class FilterPatterns
{
    public const int PageSize = 64;

    /// <summary>Channels optimised together by default: per channel-step, a batch of 16 at 56–112 px ran about twice as fast as one at a time on 2 cores, and larger batches no faster.</summary>
    public const int DefaultBatchSize = 16;

    /// <summary>
    /// Bytes one forward + backward may hold at once (activations kept for the backward and their gradients): one batch's
    /// share of the memory budget (<see cref="Memory.MemoryBudget.BatchBytes"/>, 256 MiB of the default 2 GiB), as LIME's,
    /// SHAP's and metrics' batches. A fixed 768 MiB let a request peak past +0.5 GiB over VGG16.
    /// </summary>
    public static long StepBytes => Memory.MemoryBudget.BatchBytes;

    /// <summary>The patterns of one batch, as soon as it is done: pixels [K,C,size,size] in [0,1] and per-item figures.</summary>
    public sealed record Batch(int[] Channels, float[] Pixels, float[] Before, float[] After, bool[] Responsive);

    /// <summary>
    /// Optimises <paramref name="channels"/> of <paramref name="layer"/> in batches of <paramref name="batchSize"/>
    /// (each step of a batch runs the network on as many items at a time as <see cref="StepBytes"/> allows) and hands
    /// each batch to <paramref name="done"/> as it finishes. Returns the passes run (one per chunk of items per step).
    /// Reports progress per step and stops between steps when cancelled (finished batches have been handed over).
    /// </summary>
    public static int Optimise(CnnModel model, LayerInfo layer, int[] channels, FilterPatternPreset preset, int steps, int seed, int size,
        int batchSize, Action<Batch> done, IProgress<ExplainProgress>? progress, CancellationToken cancellation)
    {
        var c = model.Input.ChannelCount;
        var passes = 0;
        var batches = channels.Chunk(Math.Max(1, batchSize)).ToList();
        var total = batches.Count * steps;
        var reluInput = ReluInput(model, layer);
        var schedule = preset.Schedule(size, steps);
        for (var b = 0; b < batches.Count; b++)
        {
            var batch = batches[b];
            using var scope = NewDisposeScope();
            using var image = preset.Create(batch, c, schedule[0].Side, size, seed);
            var index = tensor(batch.Select(ch => (long)ch).ToArray());
            var before = Activations(model, layer, image.Display(size), index, ref passes);
            var responsive = zeros(batch.Length, dtype: ScalarType.Bool);
            var step = 0;
            foreach (var (side, count, transform) in schedule)
            {
                image.Resize(side);
                var chunk = ChunkSize(model, layer, side);
                for (var i = 0; i < count; i++, step++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    using var stepScope = NewDisposeScope();
                    var gradient = zeros_like(image.Parameters);
                    for (long from = 0; from < batch.Length; from += chunk)
                    {
                        // A chunk's activations go as soon as its gradient is in: the step's scope would keep every chunk's alive at once.
                        using var chunkScope = NewDisposeScope();
                        var to = Math.Min(batch.Length, from + chunk);
                        var pixels = image.Pixels(from, to);
                        var objective = Objective(model, layer, reluInput, transform ? image.Augment(pixels, step) : pixels, index.narrow(0, from, to - from)).sum();
                        gradient.add_(autograd.grad([objective], [image.Parameters])[0]); // zero outside items [from, to)
                        passes++;
                    }
                    responsive.logical_or_(gradient.abs().flatten(1).amax([1]) > 0);
                    image.Ascend(gradient, step);
                    progress?.Report(new ExplainProgress(b * steps + step + 1, total, $"filter patterns of {layer.Name}: step {step + 1}/{steps}" +
                        (batches.Count > 1 ? $", batch {b + 1}/{batches.Count}" : "")));
                }
            }
            var shown = image.Display(size);
            var after = Activations(model, layer, shown, index, ref passes);
            done(new Batch(batch, shown.contiguous().data<float>().ToArray(), before, after, responsive.data<bool>().ToArray()));
        }
        return passes;
    }

    /// <summary>Items per forward + backward at <paramref name="side"/> px so that the activations fit <see cref="StepBytes"/>.</summary>
    public static int ChunkSize(CnnModel model, LayerInfo layer, int side)
    {
        // Every layer up to the target keeps its output for the backward and gets a gradient of the same size; the
        // layer shapes are at the model's input size, and a map's area scales with the input's.
        var area = (double)side * side / (model.Input.Height * model.Input.Width);
        var elements = 0.0;
        foreach (var l in model.Layers)
        {
            elements += l.OutputShape.Aggregate(1.0, (p, d) => p * d) * (l.IsSpatial ? area : 1);
            if (l.Name == layer.Name) break;
        }
        var bytes = elements * sizeof(float) * 2 + (double)model.Input.ChannelCount * side * side * sizeof(float) * 4;
        return (int)Math.Clamp(StepBytes / Math.Max(1, bytes), 1, int.MaxValue);
    }

    /// <summary>Each item's mean activation of its channel for pixels [K,C,H,W], without gradients, a chunk at a time.</summary>
    private static float[] Activations(CnnModel model, LayerInfo layer, Tensor pixels, Tensor channels, ref int passes)
    {
        using var _ = no_grad();
        var chunk = ChunkSize(model, layer, (int)pixels.shape[2]) * 2; // no backward: half the memory
        var values = new float[pixels.shape[0]];
        for (long from = 0; from < values.Length; from += chunk)
        {
            using var scope = NewDisposeScope();
            var to = Math.Min(values.Length, from + chunk);
            Activation(model, layer, pixels.narrow(0, from, to - from), channels.narrow(0, from, to - from)).data<float>().CopyTo(values.AsSpan((int)from, (int)(to - from)));
            passes++;
        }
        return values;
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
