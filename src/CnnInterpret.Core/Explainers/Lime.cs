namespace CnnInterpret.Core.Explainers;

/// <param name="KernelWidth">Width of the exponential kernel on cosine distance (lime_image's 0.25).</param>
/// <param name="Alpha">Ridge penalty of the surrogate (lime's Ridge(alpha=1)).</param>
/// <param name="PartialInterval">How often a partial fit is reported (default about every second).</param>
public sealed record LimeOptions(
    SampleCount Samples,
    int Seed = 0,
    double KernelWidth = 0.25,
    double Alpha = 1,
    TimeSpan? PartialInterval = null);

/// <summary>A weighted ridge surrogate: score ≈ Intercept + Σ Weights[i]·shown[i].</summary>
/// <param name="R2">Weighted R² of the surrogate on the samples it was fitted to (lime's <c>score</c>).</param>
/// <param name="LocalPrediction">The surrogate at the unperturbed image (every segment shown).</param>
public sealed record LimeFit(double[] Weights, double Intercept, double R2, double LocalPrediction);

/// <param name="Score">The model's score of the unperturbed image.</param>
/// <param name="Samples">Samples used (the first is the unperturbed image, as in lime).</param>
/// <param name="Stability">Agreement of the top segments between surrogates fitted on two halves of the samples (<see cref="Sampling.Agreement"/>).</param>
/// <param name="Cancelled">True when cancellation stopped the sampling: the fit uses the samples scored until then.</param>
public sealed record LimeResult(
    LimeFit Fit,
    double Score,
    int Samples,
    int Seed,
    double Stability,
    bool Cancelled,
    int[] TopPositive,
    int[] TopNegative);

/// <summary>
/// LIME for images: Ribeiro, Singh and Guestrin, "'Why Should I Trust You?' Explaining the Predictions of Any
/// Classifier", KDD 2016, as the <c>lime</c> library's <c>LimeImageExplainer</c> computes it: uniform random
/// on/off masks over superpixels (the first sample is the unperturbed image), the model's score for each,
/// sample weights √exp(−d²/w²) with d the cosine distance to the all-on mask and w = 0.25 (lime's kernel; the
/// square root is lime's), and a weighted ridge regression (α = 1, intercept fitted, as sklearn's Ridge) whose
/// coefficients are the segment weights. Deviations: every segment is kept (lime's default num_features=100000
/// does the same); masks come from .NET's seeded <see cref="Random"/>, not numpy's, and are drawn before
/// any scoring, so the numbers do not depend on the batch size.
/// </summary>
public static class Lime
{
    public const int DefaultSamples = 1000;

    public static LimeResult Explain(PerturbationScorer scorer, LimeOptions options, Action<AttributionPartial>? partial = null,
        CancellationToken cancellation = default)
    {
        int s = scorer.Segments, total = options.Samples.Count;
        var masks = Masks(s, total, new Random(options.Seed));
        var scores = new double[total * scorer.Targets];
        var timer = new PartialTimer(options.PartialInterval ?? TimeSpan.FromSeconds(1));
        void AfterBatch(int scored)
        {
            if (partial is null || !timer.Due() || scored < 2) return;
            var fit = Fit(masks, Column(scores, scorer.Targets, scored), s, Enumerable.Range(0, scored), options);
            partial(new AttributionPartial(scored, total, [fit.Weights]));
        }

        var (done, stability, cancelled) = Sampling.ScoreRows(scorer, masks, scores, options.Samples, total,
            scored => Stability(masks, Column(scores, scorer.Targets, scored), s, scored, options), AfterBatch, cancellation);
        if (done < 2) throw new OperationCanceledException(cancellation);
        var y = Column(scores, scorer.Targets, done);
        var final = Fit(masks, y, s, Enumerable.Range(0, done), options);
        if (cancelled || double.IsNaN(stability)) stability = Stability(masks, y, s, done, options);
        var order = Enumerable.Range(0, s).OrderByDescending(i => final.Weights[i]).ThenBy(i => i).ToArray();
        return new LimeResult(final, y[0], done, options.Seed, stability, cancelled,
            order.Where(i => final.Weights[i] > 0).Take(Sampling.TopCount).ToArray(),
            order.Reverse().Where(i => final.Weights[i] < 0).Take(Sampling.TopCount).ToArray());
    }

    /// <summary>Mask rows [count, segments]: the first all ones (the image itself), the rest uniform on/off (lime's randint(0, 2)).</summary>
    public static byte[] Masks(int segments, int count, Random random)
    {
        var masks = new byte[count * segments];
        Array.Fill(masks, (byte)1, 0, segments);
        for (var i = segments; i < masks.Length; i++) masks[i] = (byte)random.Next(2);
        return masks;
    }

    /// <summary>lime's sample weight: √exp(−d²/w²), d = cosine distance between the mask and the all-on mask = 1 − √(shown/S).</summary>
    public static double KernelWeight(int shown, int segments, double width)
    {
        var distance = shown == 0 ? 1 : 1 - Math.Sqrt((double)shown / segments);
        return Math.Sqrt(Math.Exp(-distance * distance / (width * width)));
    }

    /// <summary>
    /// Weighted ridge with intercept, as sklearn's Ridge(alpha).fit(X, y, sample_weight): centre X and y on their
    /// weighted means, solve (Xcᵀ W Xc + αI) β = Xcᵀ W yc, intercept = ȳ − x̄·β; R² weighted as Ridge.score.
    /// </summary>
    public static LimeFit Fit(byte[] masks, double[] y, int segments, IEnumerable<int> rows, LimeOptions options)
    {
        var used = rows.ToArray();
        var weights = used.Select(r => KernelWeight(Shown(masks, r, segments), segments, options.KernelWidth)).ToArray();
        double totalWeight = weights.Sum(), yMean = 0;
        var xMean = new double[segments];
        for (var i = 0; i < used.Length; i++)
        {
            yMean += weights[i] * y[used[i]];
            for (var j = 0; j < segments; j++) xMean[j] += weights[i] * masks[used[i] * segments + j];
        }
        yMean /= totalWeight;
        for (var j = 0; j < segments; j++) xMean[j] /= totalWeight;

        // Σ w (x − x̄)(x − x̄)ᵀ = Σ w x xᵀ − W x̄ x̄ᵀ, accumulated over the shown segments of each row only.
        var a = new double[segments, segments];
        var b = new double[segments];
        var shown = new List<int>(segments);
        for (var i = 0; i < used.Length; i++)
        {
            shown.Clear();
            for (var j = 0; j < segments; j++) if (masks[used[i] * segments + j] != 0) shown.Add(j);
            var dy = y[used[i]] - yMean;
            foreach (var j in shown)
            {
                b[j] += weights[i] * dy;
                foreach (var k in shown) a[j, k] += weights[i];
            }
        }
        for (var j = 0; j < segments; j++)
        {
            for (var k = 0; k < segments; k++) a[j, k] -= totalWeight * xMean[j] * xMean[k];
            a[j, j] += options.Alpha;
        }
        var beta = Sampling.SolveSymmetric(a, [b])[0];
        var intercept = yMean - xMean.Select((m, j) => m * beta[j]).Sum();

        double residual = 0, spread = 0;
        for (var i = 0; i < used.Length; i++)
        {
            var prediction = intercept;
            for (var j = 0; j < segments; j++) if (masks[used[i] * segments + j] != 0) prediction += beta[j];
            residual += weights[i] * Math.Pow(y[used[i]] - prediction, 2);
            spread += weights[i] * Math.Pow(y[used[i]] - yMean, 2);
        }
        var r2 = spread > 0 ? 1 - residual / spread : residual == 0 ? 1 : 0;
        return new LimeFit(beta, intercept, r2, intercept + beta.Sum());
    }

    /// <summary>Agreement of the top segments between fits on the even and the odd samples (both keep the unperturbed image, sample 0).</summary>
    public static double Stability(byte[] masks, double[] y, int segments, int count, LimeOptions options)
    {
        var even = Fit(masks, y, segments, Enumerable.Range(0, count).Where(r => r % 2 == 0), options);
        var odd = Fit(masks, y, segments, Enumerable.Range(0, count).Where(r => r == 0 || r % 2 == 1), options);
        return Sampling.Agreement(even.Weights, odd.Weights);
    }

    private static int Shown(byte[] masks, int row, int segments)
    {
        var n = 0;
        for (var j = 0; j < segments; j++) n += masks[row * segments + j];
        return n;
    }

    /// <summary>The first target's scores of the first <paramref name="count"/> samples.</summary>
    private static double[] Column(double[] scores, int targets, int count)
    {
        var y = new double[count];
        for (var i = 0; i < count; i++) y[i] = scores[i * targets];
        return y;
    }
}
