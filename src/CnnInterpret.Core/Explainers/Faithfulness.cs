using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>One map's deletion and insertion curves: the target's score at each fraction of pixels removed (or revealed).</summary>
public sealed record FaithfulnessCurves(double[] Fractions, double[] Deletion, double[] Insertion)
{
    public double DeletionAuc => Faithfulness.Auc(Deletion);
    public double InsertionAuc => Faithfulness.Auc(Insertion);
}

/// <summary>
/// Deletion and insertion curves (Petsiuk et al. 2018, "RISE", §4.1): remove the pixels a map ranks most
/// important first, in equal steps, and record the target's score; a faithful map makes it fall fast (a low
/// deletion AUC). Insertion reveals them in the same order on a blurred copy; a faithful map makes it rise
/// fast (a high insertion AUC). Removed pixels become black, as in RISE; insertion starts from a Gaussian blur
/// (σ = max(H,W)/8), as RISE does. The score is the class probability (softmax), or a channel's mean activation
/// for channel targets. Perturbed images are built from the pixel order batch by batch: memory is one batch.
/// </summary>
public static class Faithfulness
{
    public const int DefaultSteps = 32;

    /// <summary>Area under a curve sampled at equally spaced fractions 0…1 (trapezoid rule).</summary>
    public static double Auc(IReadOnlyList<double> curve)
    {
        if (curve.Count < 2) return curve.Count == 1 ? curve[0] : 0;
        double sum = 0;
        for (var i = 1; i < curve.Count; i++) sum += (curve[i - 1] + curve[i]) / 2;
        return sum / (curve.Count - 1);
    }

    /// <summary>Pixel indices from most to least important (ties in index order, so the order is reproducible).</summary>
    public static int[] Order(ReadOnlySpan<float> map)
    {
        var values = map.ToArray();
        return Enumerable.Range(0, values.Length).OrderByDescending(i => float.IsNaN(values[i]) ? float.NegativeInfinity : values[i]).ThenBy(i => i).ToArray();
    }

    /// <param name="input">The normalised image, [C,H,W].</param>
    /// <param name="removed">What a removed pixel becomes (normalised), [C,H,W].</param>
    /// <param name="blurred">Where insertion starts (normalised), [C,H,W].</param>
    public static FaithfulnessCurves Curves(CnnModel model, float[] input, float[] removed, float[] blurred, Target target, int[] order,
        int steps = DefaultSteps, int batchSize = 16, CancellationToken cancellation = default)
    {
        var pixels = order.Length;
        if (steps < 1 || steps > pixels)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Steps must be between 1 and the number of pixels ({pixels}), not {steps}.");
        var counts = Enumerable.Range(0, steps + 1).Select(k => (int)Math.Round((double)k * pixels / steps)).ToArray();
        var deletion = Score(model, input, removed, order, counts, target, batchSize, cancellation);
        var insertion = Score(model, blurred, input, order, counts, target, batchSize, cancellation);
        return new FaithfulnessCurves(counts.Select(c => (double)c / pixels).ToArray(), deletion, insertion);
    }

    /// <summary>The score of <paramref name="start"/> with its first counts[k] pixels (in order) taken from <paramref name="replacement"/>, for each k.</summary>
    private static double[] Score(CnnModel model, float[] start, float[] replacement, int[] order, int[] counts, Target target, int batchSize, CancellationToken cancellation)
    {
        var plane = order.Length;
        var channels = start.Length / plane;
        var shape = model.Input.InputShape;
        var scores = new double[counts.Length];
        var batch = new float[Math.Min(batchSize, counts.Length) * start.Length]; // one buffer for every batch: no large-object garbage per batch
        for (var first = 0; first < counts.Length; first += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var n = Math.Min(batchSize, counts.Length - first);
            for (var b = 0; b < n; b++)
            {
                var image = batch.AsSpan(b * start.Length, start.Length);
                start.CopyTo(image);
                for (var p = 0; p < counts[first + b]; p++)
                    for (var c = 0; c < channels; c++)
                        image[c * plane + order[p]] = replacement[c * plane + order[p]];
            }
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (logits, captured) = model.Forward(NativeTensor.From<float>(batch.AsSpan(0, n * start.Length), n, shape[0], shape[1], shape[2]), target.Captures);
            var values = target is Target.Class c_ ? nn.functional.softmax(logits, 1)[.., c_.Index] : target.Score(logits, captured);
            var managed = values.to_type(ScalarType.Float64).data<double>().ToArray();
            Array.Copy(managed, 0, scores, first, n);
        }
        return scores;
    }

    /// <summary>Curves averaged over <paramref name="repeats"/> random pixel orders (seeded): the reference a map must beat.</summary>
    public static FaithfulnessCurves RandomReference(CnnModel model, float[] input, float[] removed, float[] blurred, Target target, int steps,
        int seed = 0, int repeats = 3, int batchSize = 16, CancellationToken cancellation = default)
    {
        var pixels = model.Input.Height * model.Input.Width;
        var random = new Random(seed);
        var runs = Enumerable.Range(0, repeats).Select(_ =>
        {
            var order = Enumerable.Range(0, pixels).ToArray();
            random.Shuffle(order);
            return Curves(model, input, removed, blurred, target, order, steps, batchSize, cancellation);
        }).ToList();
        double[] Mean(Func<FaithfulnessCurves, double[]> pick) =>
            Enumerable.Range(0, steps + 1).Select(k => runs.Average(r => pick(r)[k])).ToArray();
        return new FaithfulnessCurves(runs[0].Fractions, Mean(r => r.Deletion), Mean(r => r.Insertion));
    }
}
