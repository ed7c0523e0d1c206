using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>One stage of the cascade: the explanation after randomising every parameterised layer down to <see cref="Randomized"/>.</summary>
public sealed record SanityStage(string? Randomized, string Label, float[] Map, double RankCorrelation);

public sealed record SanityResult(IReadOnlyList<SanityStage> Stages, bool Flagged, string Verdict);

/// <summary>
/// The model-parameter randomisation test (Adebayo et al. 2018, "Sanity Checks for Saliency Maps", §3.1):
/// re-initialise the weights layer by layer from the top down (cascading) and recompute the explanation at each
/// stage. A method that explains the model must change as the model is destroyed; one whose map stays the same
/// is explaining the image, not the network, and is flagged. Similarity is Spearman's rank correlation of the maps
/// (the paper also uses it). Weights are re-drawn as Kaiming-normal (He et al. 2015) from a seeded generator, on a
/// private copy of the model.
/// </summary>
public static class SanityCheck
{
    /// <summary>Above this correlation with the original after full randomisation, the map is flagged.</summary>
    public const double FlagThreshold = 0.5;

    public static SanityResult Run(CnnModel copy, Func<CnnModel, float[]> explain, int seed = 0, int? maxStages = null,
        IProgress<ExplainProgress>? progress = null, CancellationToken cancellation = default)
    {
        var layers = copy.Layers.Where(l => l.ParameterCount > 0).Reverse().ToList();
        if (maxStages is { } max && max < layers.Count) layers = layers.Take(max).ToList();
        var original = explain(copy);
        var stages = new List<SanityStage> { new(null, "original", original, 1) };
        var parameters = copy.Network.named_parameters().ToList();
        using var generator = new Generator((ulong)seed);
        for (var i = 0; i < layers.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            progress?.Report(new ExplainProgress(i, layers.Count, $"randomising {layers[i].DisplayName}"));
            Randomise(parameters.Where(p => p.name.StartsWith(layers[i].Name + ".", StringComparison.Ordinal)).Select(p => p.parameter), generator);
            copy.MarkModified($"randomised-to-{layers[i].Name}-seed-{seed}");
            var map = explain(copy);
            stages.Add(new SanityStage(layers[i].Name, $"randomised down to {layers[i].DisplayName}", map, Spearman(original, map)));
        }
        progress?.Report(new ExplainProgress(layers.Count, layers.Count, "done"));
        var last = stages[^1].RankCorrelation;
        // NaN: the map went flat (no ranking left), which is as changed as a map can be.
        var flagged = stages.Count > 1 && !double.IsNaN(last) && Math.Abs(last) > FlagThreshold;
        var verdict = stages.Count == 1 ? "The model has no parameterised layers to randomise."
            : flagged ? $"The map still ranks the image much as before when the model's weights are destroyed (rank correlation {last:F2} after randomising {stages.Count - 1} layers; " +
                        "Adebayo et al. compare its absolute value, so a reversed ranking counts too): it reflects the image more than the model. " +
                        "With few superpixels (LIME, KernelSHAP) chance correlations are large: repeat with more segments before trusting this."
            : double.IsNaN(last) ? "The map changes as the model is destroyed (it ends flat): it depends on the learned weights."
            : $"The map changes as the model is destroyed (rank correlation falls to {last:F2}): it depends on the learned weights.";
        return new SanityResult(stages, flagged, verdict);
    }

    private static void Randomise(IEnumerable<TorchSharp.Modules.Parameter> parameters, Generator generator)
    {
        using var _ = no_grad();
        foreach (var p in parameters)
        {
            using var scope = NewDisposeScope();
            if (p.dim() >= 2)
            {
                var fanIn = p.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
                p.copy_(randn(p.shape, generator: generator) * Math.Sqrt(2.0 / fanIn));
            }
            else
                p.copy_(randn(p.shape, generator: generator) * 0.01); // biases and norm scales: small, not zero, so they change too
        }
    }

    /// <summary>Spearman's rank correlation (Pearson's of the ranks, ties averaged); NaN when either map is constant.</summary>
    public static double Spearman(IReadOnlyList<float> a, IReadOnlyList<float> b)
    {
        if (a.Count != b.Count) throw new ArgumentException("The maps differ in size.");
        var ra = Ranks(a);
        var rb = Ranks(b);
        double ma = ra.Average(), mb = rb.Average(), cov = 0, va = 0, vb = 0;
        for (var i = 0; i < ra.Length; i++)
        {
            cov += (ra[i] - ma) * (rb[i] - mb);
            va += (ra[i] - ma) * (ra[i] - ma);
            vb += (rb[i] - mb) * (rb[i] - mb);
        }
        return va == 0 || vb == 0 ? double.NaN : cov / Math.Sqrt(va * vb);
    }

    private static double[] Ranks(IReadOnlyList<float> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && values[order[j + 1]] == values[order[i]]) j++;
            for (var k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2.0;
            i = j + 1;
        }
        return ranks;
    }
}
