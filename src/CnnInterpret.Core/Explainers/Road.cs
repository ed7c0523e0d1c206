using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// A map's ROAD curves: the target's score after removing each percentage of the pixels, most relevant first (a
/// faithful map makes it fall fast: low is good) and least relevant first (it should barely move: high is good).
/// </summary>
/// <param name="Percentages">The share of pixels removed at each point, in percent (10, 20, … 90).</param>
/// <param name="Original">The score of the image itself.</param>
public sealed record RoadCurves(double[] Percentages, double[] MostRelevantFirst, double[] LeastRelevantFirst, double Original)
{
    /// <summary>The mean of the most-relevant-first curve (each percentage an equal share): pytorch-grad-cam's <c>ROADMostRelevantFirstAverage</c> plus the original score.</summary>
    public double MostRelevantFirstAuc => MostRelevantFirst.Average();

    public double LeastRelevantFirstAuc => LeastRelevantFirst.Average();

    /// <summary>pytorch-grad-cam's <c>ROADCombined</c>: (least-relevant-first − most-relevant-first) ÷ 2, averaged over the percentages; higher is better.</summary>
    public double Combined => (LeastRelevantFirstAuc - MostRelevantFirstAuc) / 2;
}

/// <summary>
/// ROAD, "remove and debias": Rong et al., "A Consistent and Efficient Evaluation Strategy for Attribution Methods",
/// ICML 2022 (arXiv:2202.00449). Deletion with black pixels tells the model where the removal is (the black shapes
/// themselves change its output), so a map is partly scored on the holes it draws; ROAD fills the removed pixels by
/// <see cref="NoisyLinearImputer"/> instead, which leaves little of that trace. As pytorch-grad-cam's
/// <c>ROADMostRelevantFirst</c> / <c>ROADLeastRelevantFirst</c> (<c>metrics/road.py</c>, <c>perturbation_confidence.py</c>):
/// to remove r% most relevant first, a pixel is kept when map &lt; the (100 − r)th percentile of the map (NumPy's
/// linear percentile); least relevant first applies the same rule to 1 − map. Pixels that tie with the threshold are
/// removed, so a map with a flat region (a CAM's zeros) can remove more than r%. The score is the class probability
/// (softmax: pytorch-grad-cam's <c>ClassifierOutputSoftmaxTarget</c>, as its ROAD tutorial scores) or a channel
/// target's mean activation. Imputation happens in the model's normalised units, with seeded noise.
/// </summary>
public static class Road
{
    public static readonly IReadOnlyList<int> Percentages = [10, 20, 30, 40, 50, 60, 70, 80, 90];

    /// <param name="input">The normalised image, [C,H,W] as <paramref name="shape"/> says.</param>
    /// <param name="map">The map to score, [H,W].</param>
    /// <param name="noise">The imputation's noise (σ, normalised units); 0 for the plain linear imputation.</param>
    public static RoadCurves Curves(CnnModel model, float[] input, int[] shape, Target target, float[] map, int seed = 0,
        double noise = NoisyLinearImputer.DefaultNoise, int batchSize = 16, CancellationToken cancellation = default)
    {
        int channels = shape[0], height = shape[1], width = shape[2];
        if (map.Length != height * width)
            throw new ArgumentException($"The map has {map.Length} values; the image {height}×{width}.", nameof(map));
        var reversed = map.Select(v => 1f - v).ToArray(); // in float32, as pytorch-grad-cam's 1 - mask
        var count = Percentages.Count;
        // Each image's noise has its own seeded generator, so the solves can run in parallel and still repeat.
        var imputed = new float[2 * count][];
        Parallel.For(0, 2 * count, new ParallelOptions { CancellationToken = cancellation }, i =>
            imputed[i] = NoisyLinearImputer.Impute(input, channels, height, width, Keep(i < count ? map : reversed, 100 - Percentages[i % count]),
                noise, new Random(unchecked(seed * 1_000_003 + i))));
        var scores = Score(model, [input, .. imputed], shape, target, batchSize, cancellation);
        return new RoadCurves(Percentages.Select(p => (double)p).ToArray(), scores[1..(1 + count)], scores[(1 + count)..], scores[0]);
    }

    /// <summary>pytorch-grad-cam's rule: keep the pixels whose value is below the <paramref name="percentile"/>th percentile.</summary>
    public static bool[] Keep(float[] map, double percentile)
    {
        var threshold = Percentile(map, percentile);
        return map.Select(v => v < threshold).ToArray();
    }

    /// <summary>NumPy's default (linear) percentile: sorted values interpolated at (n − 1)·q/100.</summary>
    public static double Percentile(float[] values, double percentile)
    {
        var sorted = values.Select(v => (double)v).Order().ToArray();
        var position = (sorted.Length - 1) * percentile / 100;
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Length - 1);
        var t = position - below;
        // NumPy's _lerp: from the nearer end, so equal neighbours give exactly their value.
        return t < 0.5 ? sorted[below] + (sorted[above] - sorted[below]) * t : sorted[above] - (sorted[above] - sorted[below]) * (1 - t);
    }

    private static double[] Score(CnnModel model, List<float[]> images, int[] shape, Target target, int batchSize, CancellationToken cancellation)
    {
        var scores = new double[images.Count];
        for (var first = 0; first < images.Count; first += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var n = Math.Min(batchSize, images.Count - first);
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var batch = NativeTensor.From<float>(images.Skip(first).Take(n).SelectMany(i => i).ToArray(), n, shape[0], shape[1], shape[2]);
            var (logits, captured) = model.Forward(batch, target.Captures);
            var values = target is Target.Class c ? nn.functional.softmax(logits, 1)[.., c.Index] : target.Score(logits, captured);
            Array.Copy(values.to_type(ScalarType.Float64).data<double>().ToArray(), 0, scores, first, n);
        }
        return scores;
    }
}
