using CnnInterpret.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <param name="Layer">Attribute the output of this layer instead of the input pixels (null: the image).</param>
/// <param name="BatchSize">Interpolation points per forward/backward pass (from the memory budget).</param>
/// <param name="Regions">For the stability score: a region id (superpixel) for each cell of the attribution's [H,W] plane, and their count.</param>
public sealed record GradientShapOptions(
    SampleCount Samples,
    int Seed = 0,
    string? Layer = null,
    ScoreKind Score = ScoreKind.Logit,
    int BatchSize = 16,
    (int[] Labels, int Count)? Regions = null,
    TimeSpan? PartialInterval = null);

/// <param name="Values">Per target, the attributions in the shape of the input (or of the layer's output): [C,H,W] row-major.</param>
/// <param name="Fx">The score of the image.</param>
/// <param name="FBaseline">The expected score of the baselines: the mean over the whole background set.</param>
/// <param name="Stability">Top-region agreement between the even and the odd samples (NaN without regions).</param>
public sealed record GradientShapResult(
    float[][] Values,
    int[] Shape,
    double[] Fx,
    double[] FBaseline,
    int Samples,
    int Seed,
    string? Layer,
    double Stability,
    bool Cancelled)
{
    /// <summary>Σφ − (f(x) − E f(x')) per target: how far the sum is from efficiency (0 in the limit of many samples).</summary>
    public double[] EfficiencyGap => Values.Select((v, t) => v.Sum(x => (double)x) - (Fx[t] - FBaseline[t])).ToArray();

    /// <summary>The values summed over channels: an [H,W] map per target.</summary>
    public float[][] Maps => Values.Select(v => SumChannels(v, Shape)).ToArray();

    public static float[] SumChannels(float[] values, int[] shape)
    {
        var plane = shape.Length == 3 ? shape[1] * shape[2] : values.Length;
        var map = new float[plane];
        for (var i = 0; i < values.Length; i++) map[i % plane] += values[i];
        return map;
    }
}

/// <summary>
/// GradientSHAP / expected gradients: Erion, Janizek, Sturmfels, Lundberg and Lee, "Improving performance of
/// deep learning models with axiomatic attribution priors and expected gradients", Nature Machine
/// Intelligence 3, 2021 (and SHAP's GradientExplainer, Lundberg and Lee 2017). Each sample draws a baseline
/// x′ from the background set and α ~ U(0,1), takes the gradient g of the target's score at x′ + α(x − x′),
/// and contributes (x − x′)·g; the attribution is the mean. Its sum approaches f(x) − E[f(x′)] as samples grow.
/// At an inner layer the same happens to that layer's activation, with the rest of the network run from the
/// layer (captum's LayerGradientShap). Deviations: no Gaussian noise is added to the inputs (captum's
/// stdevs = 0 default); instead of i.i.d. draws, the samples visit the baselines in turn and take α from a
/// randomly shifted van der Corput sequence per baseline (randomised quasi-Monte Carlo: the same expectation,
/// much less variance, so Σφ lands closer to f(x) − E[f(x′)] for the same cost); draws are fixed from the
/// seed before any pass and samples are summed in order in double precision, so the result does not depend
/// on the batch size.
/// </summary>
public static class GradientShap
{
    public const int DefaultSamples = 128;

    /// <summary>"auto" checks the ranking every this many samples.</summary>
    public const int AutoStep = 32;

    public const int AutoMax = 1024;

    /// <param name="input">The normalised image [C,H,W].</param>
    /// <param name="baselines">Normalised baseline images, each [C,H,W].</param>
    public static GradientShapResult Explain(CnnModel model, float[] input, IReadOnlyList<float[]> baselines, IReadOnlyList<Target> targets,
        GradientShapOptions options, Action<AttributionPartial>? partial = null, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        var inputShape = model.Input.InputShape.Select(d => (long)d).ToArray();
        var captures = targets.SelectMany(t => t.Captures).ToHashSet();
        var x = NativeTensor.From<float>(input, [1, .. inputShape]);
        var references = stack(baselines.Select(b => NativeTensor.From<float>(b, inputShape)).ToArray());

        // The space attributed: the image, or the layer's activation of the image and of each baseline.
        Tensor origin, bases;
        double[] fx, fBaseline;
        using (no_grad())
        {
            fx = Score(model, x, targets, options.Score, captures).Select(s => s[0]).ToArray();
            var fBaselines = Chunks(baselines.Count, options.BatchSize).Select(r => Score(model, references[r.Start..r.End], targets, options.Score, captures)).ToList();
            fBaseline = Enumerable.Range(0, targets.Count).Select(t => fBaselines.SelectMany(s => s[t]).Average()).ToArray();
            var layer = new HashSet<string> { options.Layer ?? "" };
            (origin, bases) = options.Layer is null
                ? (x, references)
                : (model.Forward(x, layer).Captured[options.Layer],
                   cat(Chunks(baselines.Count, options.BatchSize).Select(r => model.Forward(references[r.Start..r.End], layer).Captured[options.Layer]).ToArray(), 0));
        }
        return Run(model, x, origin, bases, targets, options, fx, fBaseline, captures, partial, cancellation);
    }

    private static GradientShapResult Run(CnnModel model, Tensor x, Tensor origin, Tensor bases, IReadOnlyList<Target> targets, GradientShapOptions options,
        double[] fx, double[] fBaseline, HashSet<string> captures, Action<AttributionPartial>? partial, CancellationToken cancellation)
    {
        var shape = origin.shape.Skip(1).Select(d => (int)d).ToArray();
        var size = shape.Aggregate(1, (a, b) => a * b);
        var total = options.Samples.Count;
        var draws = Draws(total, (int)bases.shape[0], options.Seed);
        var sums = targets.Select(_ => new double[size]).ToArray();
        var regions = options.Regions;
        var halves = targets.Select(_ => new[] { new double[regions?.Count ?? 0], new double[regions?.Count ?? 0] }).ToArray();
        var timer = new PartialTimer(options.PartialInterval ?? TimeSpan.FromSeconds(1));
        var plane = shape.Length == 3 ? shape[1] * shape[2] : size;

        var done = 0;
        var stability = double.NaN;
        var stableChecks = 0;
        var cancelled = false;
        while (done < total)
        {
            if (cancellation.IsCancellationRequested)
            {
                cancelled = true;
                break;
            }
            var count = Math.Min(options.BatchSize, total - done);
            if (options.Samples.Auto) count = Math.Min(count, AutoStep - done % AutoStep);
            var contributions = Contributions(model, x, origin, bases, targets, options, captures, draws.AsSpan(done, count).ToArray());
            for (var t = 0; t < targets.Count; t++)
                for (var i = 0; i < count; i++)
                {
                    var row = contributions[t].AsSpan(i * size, size);
                    var sum = sums[t];
                    for (var k = 0; k < size; k++) sum[k] += row[k];
                    if (regions is { } r)
                    {
                        var half = halves[t][(done + i) % 2];
                        for (var k = 0; k < size; k++) half[r.Labels[k % plane]] += row[k];
                    }
                }
            done += count;
            if (partial is not null && timer.Due())
                partial(new AttributionPartial(done, total, sums.Select(s => s.Select(v => v / done).ToArray()).ToArray()));
            if (options.Samples.Auto && done % AutoStep == 0 && regions is not null)
            {
                stability = Sampling.Agreement(halves[0][0], halves[0][1]);
                stableChecks = done >= 2 * AutoStep && stability >= Sampling.StableAgreement ? stableChecks + 1 : 0;
                if (stableChecks >= 2) break;
            }
        }
        if (done == 0) throw new OperationCanceledException(cancellation);
        if (regions is not null) stability = Sampling.Agreement(halves[0][0], halves[0][1]);
        var values = sums.Select(s => s.Select(v => (float)(v / done)).ToArray()).ToArray();
        return new GradientShapResult(values, shape, fx, fBaseline, done, options.Seed, options.Layer, stability, cancelled);
    }

    /// <summary>(x − x′)·∇f(x′ + α(x − x′)) for each draw, per target: [draws × size] row-major.</summary>
    private static float[][] Contributions(CnnModel model, Tensor x, Tensor origin, Tensor bases, IReadOnlyList<Target> targets, GradientShapOptions options,
        HashSet<string> captures, (int Baseline, double Alpha)[] draws)
    {
        using var scope = NewDisposeScope();
        using var _ = enable_grad();
        var count = draws.Length;
        var chosen = bases.index_select(0, tensor(draws.Select(d => (long)d.Baseline).ToArray()));
        var alphas = tensor(draws.Select(d => (float)d.Alpha).ToArray()).reshape([count, .. Enumerable.Repeat(1L, (int)origin.dim() - 1)]);
        var difference = origin - chosen;
        var points = (chosen + alphas * difference).detach().requires_grad_(true);
        var logits = options.Layer is null
            ? model.Forward(points, captures)
            : model.ForwardFrom(options.Layer, points, captures, x.expand([count, .. x.shape.Skip(1)]));
        var scores = PerturbationScorer.Scores(targets, options.Score, logits.Logits, logits.Captured);
        var result = new float[targets.Count][];
        for (var t = 0; t < targets.Count; t++)
        {
            var gradient = autograd.grad([scores[.., t].sum()], [points], retain_graph: t < targets.Count - 1)[0];
            result[t] = (difference * gradient).contiguous().data<float>().ToArray();
        }
        return result;
    }

    /// <summary>
    /// The (baseline, α) of each sample: baselines in turn, in a seeded order; for each baseline, α runs through a
    /// van der Corput sequence (½, ¼, ¾, …) shifted by a seeded uniform offset. Every prefix covers the baselines
    /// evenly and each path evenly: the expectation of i.i.d. draws with far less variance.
    /// </summary>
    public static (int Baseline, double Alpha)[] Draws(int count, int baselines, int seed)
    {
        var random = new Random(seed);
        var order = Enumerable.Range(0, baselines).OrderBy(_ => random.Next()).ToArray();
        var shift = order.Select(_ => random.NextDouble()).ToArray();
        return Enumerable.Range(0, count).Select(i =>
        {
            var slot = i % baselines;
            var alpha = VanDerCorput(i / baselines) + shift[slot];
            return (order[slot], alpha - Math.Floor(alpha));
        }).ToArray();
    }

    /// <summary>The k-th van der Corput number in base 2: k's bits mirrored after the binary point.</summary>
    public static double VanDerCorput(int k)
    {
        double value = 0, unit = 0.5;
        for (; k > 0; k >>= 1, unit /= 2)
            if ((k & 1) == 1) value += unit;
        return value;
    }

    private static double[][] Score(CnnModel model, Tensor batch, IReadOnlyList<Target> targets, ScoreKind kind, HashSet<string> captures)
    {
        using var scope = NewDisposeScope();
        var (logits, captured) = model.Forward(batch, captures);
        var scores = PerturbationScorer.Scores(targets, kind, logits, captured).to_type(ScalarType.Float64);
        return Enumerable.Range(0, targets.Count).Select(t => scores[.., t].contiguous().data<double>().ToArray()).ToArray();
    }

    private static IEnumerable<(int Start, int End)> Chunks(int count, int size)
    {
        for (var start = 0; start < count; start += size) yield return (start, Math.Min(count, start + size));
    }
}
