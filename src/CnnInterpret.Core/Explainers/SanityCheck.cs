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
/// (the paper also uses it). Weights are re-drawn as Kaiming-normal (He et al. 2015) from a seeded generator.
/// Memory: the model is randomised in place, not copied (a copy of VGG16 is +528 MB, over a request's share of the
/// budget). Each layer's original parameters go to a temporary file just before it is randomised, and come back from
/// it when the check ends, however it ends; until then nothing else may use the model (the daemon runs the check alone).
/// </summary>
public static class SanityCheck
{
    /// <summary>Above this correlation with the original after full randomisation, the map is flagged.</summary>
    public const double FlagThreshold = 0.5;

    /// <param name="model">Randomised in place and restored before this returns or throws (its <see cref="CnnModel.WeightsHash"/> too);
    /// when restoring fails it is left marked as modified, and the caller must unload it.</param>
    public static SanityResult Run(CnnModel model, Func<CnnModel, float[]> explain, int seed = 0, int? maxStages = null,
        IProgress<ExplainProgress>? progress = null, CancellationToken cancellation = default)
    {
        var layers = model.Layers.Where(l => l.ParameterCount > 0).Reverse().ToList();
        if (maxStages is { } max && max < layers.Count) layers = layers.Take(max).ToList();
        var original = explain(model);
        var stages = new List<SanityStage> { new(null, "original", original, 1) };
        var parameters = model.Network.named_parameters().ToList();
        var hash = model.WeightsHash;
        using var generator = new Generator((ulong)seed);
        using (var originals = new OriginalWeights())
        {
            try
            {
                for (var i = 0; i < layers.Count; i++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    progress?.Report(new ExplainProgress(i, layers.Count, $"randomising {layers[i].DisplayName}"));
                    var layer = parameters.Where(p => p.name.StartsWith(layers[i].Name + ".", StringComparison.Ordinal)).Select(p => p.parameter).ToList();
                    originals.Save(layer);
                    model.MarkModified($"randomised-to-{layers[i].Name}-seed-{seed}"); // before the first change: caches never mix the two
                    Randomise(layer, generator);
                    var map = explain(model);
                    stages.Add(new SanityStage(layers[i].Name, $"randomised down to {layers[i].DisplayName}", map, Spearman(original, map)));
                }
            }
            finally
            {
                originals.Restore();
                model.WeightsHash = hash; // only once every parameter is back
            }
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

    /// <summary>In place, without a temporary the size of the layer (VGG16's first dense layer is 411 MB).</summary>
    private static void Randomise(IEnumerable<TorchSharp.Modules.Parameter> parameters, Generator generator)
    {
        using var _ = no_grad();
        foreach (var p in parameters)
        {
            var fanIn = p.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
            // Biases and norm scales: small, not zero, so they change too.
            p.normal_(0, p.dim() >= 2 ? Math.Sqrt(2.0 / fanIn) : 0.01, generator);
        }
    }

    /// <summary>
    /// The original values of the parameters randomised so far, in a temporary file (deleted when disposed): the only
    /// copy of them the check keeps, written and read back a chunk at a time.
    /// </summary>
    private sealed class OriginalWeights : IDisposable
    {
        private readonly FileStream _file = new(Path.Combine(Path.GetTempPath(), $"cnn-interpret-sanity-{Guid.NewGuid():N}.bin"),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        private readonly List<TorchSharp.Modules.Parameter> _saved = [];

        public void Save(IEnumerable<TorchSharp.Modules.Parameter> parameters)
        {
            foreach (var p in parameters)
            {
                Models.Checkpoints.TensorStorage.Write(_file, p);
                _saved.Add(p);
            }
            _file.Flush();
        }

        public void Restore()
        {
            using var _ = no_grad();
            _file.Position = 0;
            foreach (var p in _saved) Models.Checkpoints.TensorStorage.ReadInto(_file, p);
            _saved.Clear();
        }

        public void Dispose() => _file.Dispose();
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
