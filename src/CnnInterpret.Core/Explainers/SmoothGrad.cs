namespace CnnInterpret.Core.Explainers;

/// <summary>
/// SmoothGrad: Smilkov, Thorat, Kim, Viégas and Wattenberg, "SmoothGrad: removing noise by adding noise", 2017
/// (arXiv:1706.03825); Captum's <c>NoiseTunnel</c> with <c>nt_type="smoothgrad"</c>. The attribution is the mean of a
/// base method's attributions over <c>samples</c> copies of the image with Gaussian noise added, N(0, σ²) per value,
/// where σ = <c>noise</c> × (max − min of the normalised image): the paper's noise level, and Captum's
/// <c>stdevs</c> = σ. The base is saliency (|∂y/∂x|, as Captum's default <c>abs=True</c>) or integrated gradients
/// (from a baseline taken of the clean image, as NoiseTunnel passes the same baselines to every noisy copy; Gauss–
/// Legendre over <c>steps</c> points). All points go through the network in batches; the noise comes from a
/// generator seeded with <c>seed</c> and is drawn copy by copy in order, so the same seed gives the same answer
/// whatever the batch size. Deviation: the noise is drawn by .NET's seeded generator, not torch's, so a seed does
/// not reproduce Captum's draws, only their distribution; the map is always drawn with a signed scale because the
/// integrated-gradients base is signed (over saliency it is never negative).
/// </summary>
public sealed class SmoothGrad : IExplainer
{
    public static readonly IReadOnlyList<string> Bases = ["saliency", IntegratedGradients.MethodName];

    public ExplainerInfo Info { get; } = InputGradients.Info("smoothgrad", "SmoothGrad", signed: true, sampling: true,
        "Smilkov et al., SmoothGrad: removing noise by adding noise, 2017 (arXiv:1706.03825); as Captum's NoiseTunnel (smoothgrad)",
        new ExplainerOption("base", OptionType.Choice, "saliency", "The method averaged over the noisy copies: saliency (|gradient|) or integrated-gradients.", Bases),
        new ExplainerOption("samples", OptionType.Integer, 25, "How many noisy copies of the image to average over.", Minimum: 1, Maximum: 4096),
        new ExplainerOption("noise", OptionType.Number, 0.15, "The noise's standard deviation as a fraction of the image's range (max − min of the normalised values).", Minimum: 0, Maximum: 1),
        new ExplainerOption("seed", OptionType.Integer, 0, "Seeds the noise: the same seed gives the same answer.", Minimum: 0),
        new ExplainerOption("steps", OptionType.Integer, 16, "Points on each noisy copy's path (integrated-gradients base only).", Minimum: 2, Maximum: 1024),
        IntegratedGradients.BaselineOption(" (integrated-gradients base only)"));

    public Attribution Explain(ExplainContext context)
    {
        var options = context.Options;
        var samples = options.Int("samples");
        var x = context.Input;
        var sigma = options.Number("noise") * (x.Max() - x.Min());
        var random = new Random(options.Int("seed"));
        var sum = new double[x.Length];
        if (options.Choice("base") == "saliency")
        {
            InputGradients.Stream(context, samples, "SmoothGrad, noisy copies",
                (_, point) => AddNoise(x, sigma, random, point),
                (_, gradient) =>
                {
                    for (var i = 0; i < sum.Length; i++) sum[i] += Math.Abs(gradient[i]);
                });
        }
        else
        {
            var steps = options.Int("steps");
            var baseline = IntegratedGradients.Baseline(context, options.Choice("baseline"));
            var (alphas, weights) = IntegratedGradients.Rule("gausslegendre", steps);
            var noisy = new Queue<float[]>(); // the copies whose path is in the network, oldest first
            var current = x;
            var integral = new double[x.Length];
            InputGradients.Stream(context, samples * steps, "SmoothGrad, points on the noisy copies' paths",
                (k, point) =>
                {
                    if (k % steps == 0)
                    {
                        current = new float[x.Length];
                        AddNoise(x, sigma, random, current);
                        noisy.Enqueue(current);
                    }
                    IntegratedGradients.PathPoint(current, baseline, alphas[k % steps], point);
                },
                (k, gradient) =>
                {
                    IntegratedGradients.Accumulate(integral, gradient, weights[k % steps]);
                    if (k % steps != steps - 1) return;
                    var attributions = IntegratedGradients.Attributions(integral, noisy.Dequeue(), baseline);
                    for (var i = 0; i < sum.Length; i++) sum[i] += attributions[i];
                    Array.Clear(integral);
                });
        }
        var mean = sum.Select(v => (float)(v / samples)).ToArray();
        return InputGradients.Pixel(context, mean) with { Figures = new Dictionary<string, double> { ["sigma"] = sigma } };
    }

    /// <summary>x + N(0, σ²) per value into <paramref name="copy"/> (Box–Muller, both values of each pair used).</summary>
    private static void AddNoise(float[] x, double sigma, Random random, Span<float> copy)
    {
        for (var i = 0; i < copy.Length; i += 2)
        {
            var radius = sigma * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
            var angle = 2 * Math.PI * random.NextDouble();
            copy[i] = (float)(x[i] + radius * Math.Cos(angle));
            if (i + 1 < copy.Length) copy[i + 1] = (float)(x[i + 1] + radius * Math.Sin(angle));
        }
    }
}
