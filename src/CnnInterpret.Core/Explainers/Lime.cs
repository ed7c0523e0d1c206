namespace CnnInterpret.Core.Explainers;

/// <param name="KernelWidth">Width of the exponential kernel on cosine distance (lime_image's 0.25).</param>
/// <param name="Alpha">Ridge penalty of the surrogate (lime's Ridge(alpha=1)).</param>
/// <param name="PartialInterval">How often a partial fit is reported (default about every second).</param>
/// <param name="Paired">Draw each mask together with its complement (antithetic sampling; lime draws them independently).</param>
public sealed record LimeOptions(
    SampleCount Samples,
    int Seed = 0,
    double KernelWidth = 0.25,
    double Alpha = 1,
    TimeSpan? PartialInterval = null,
    bool Paired = true);

/// <summary>A weighted ridge surrogate: score ≈ Intercept + Σ Weights[i]·shown[i].</summary>
/// <param name="R2">Weighted R² of the surrogate on the samples it was fitted to (lime's <c>score</c>).</param>
/// <param name="LocalPrediction">The surrogate at the unperturbed image (every segment shown).</param>
public sealed record LimeFit(double[] Weights, double Intercept, double R2, double LocalPrediction);

/// <param name="Score">The model's score of the unperturbed image.</param>
/// <param name="Samples">Samples used (the first is the unperturbed image, as in lime).</param>
/// <param name="Stability">Agreement of the top segments between surrogates fitted on two halves of the samples (<see cref="Sampling.Agreement"/>).</param>
/// <param name="Cancelled">True when cancellation stopped the sampling: the fit uses the samples scored until then.</param>
/// <param name="Confidence">"auto" only (else NaN): its estimated chance that the weights have converged (<see cref="Sampling.Confidence"/>).</param>
/// <param name="Note">"auto" only: where it stopped and how sure it is, or that it did not converge within its cap and what to try.</param>
public sealed record LimeResult(
    LimeFit Fit,
    double Score,
    int Samples,
    int Seed,
    double Stability,
    bool Cancelled,
    int[] TopPositive,
    int[] TopNegative,
    double Confidence = double.NaN,
    string? Note = null);

/// <summary>
/// LIME for images: Ribeiro, Singh and Guestrin, "'Why Should I Trust You?' Explaining the Predictions of Any
/// Classifier", KDD 2016, as the <c>lime</c> library's <c>LimeImageExplainer</c> computes it: uniform random
/// on/off masks over superpixels (the first sample is the unperturbed image), the model's score for each,
/// sample weights √exp(−d²/w²) with d the cosine distance to the all-on mask and w = 0.25 (lime's kernel; the
/// square root is lime's), and a weighted ridge regression (α = 1, intercept fitted, as sklearn's Ridge) whose
/// coefficients are the segment weights. Deviations: every segment is kept (lime's default num_features=100000
/// does the same); masks come from .NET's seeded <see cref="Random"/>, not numpy's, and are drawn before
/// any scoring, so the numbers do not depend on the batch size. With <see cref="LimeOptions.Paired"/> (the
/// default) every mask is followed by its complement: each mask is still uniform, so the fit tends to the same
/// answer, but the pair's shared even part (interactions between segments) cancels out of the weights, which
/// converge in fewer samples. Segments whose hiding changes no pixel (<see cref="PerturbationScorer.Active"/>)
/// are left out of the regression and weigh exactly 0 (lime fits them, to noise); they still count in the kernel's distance.
/// "auto" stops once the sandwich covariance of the weights says the ranking has converged with
/// <see cref="Sampling.TargetConfidence"/>.
/// </summary>
public static class Lime
{
    public const int DefaultSamples = 1000;

    public static LimeResult Explain(PerturbationScorer scorer, LimeOptions options, Action<AttributionPartial>? partial = null,
        CancellationToken cancellation = default)
    {
        int s = scorer.Segments, total = options.Samples.Count;
        var active = scorer.Active;
        var masks = Masks(s, total, new Random(options.Seed), options.Paired);
        var scores = new double[total * scorer.Targets];
        var timer = new PartialTimer(options.PartialInterval ?? TimeSpan.FromSeconds(1));
        void AfterBatch(int scored)
        {
            if (partial is null || !timer.Due() || scored < 2) return;
            var fit = Fit(masks, Column(scores, scorer.Targets, scored), s, Enumerable.Range(0, scored), options, active);
            partial(new AttributionPartial(scored, total, [fit.Weights]));
        }
        double Confidence(int scored)
        {
            var y = Column(scores, scorer.Targets, scored);
            var fit = Fit(masks, y, s, Enumerable.Range(0, scored), options, active);
            return Sampling.Confidence(fit.Weights, Covariance(masks, y, s, scored, options, active, fit), options.Seed);
        }

        var (done, confidence, cancelled) = Sampling.ScoreRows(scorer, masks, scores, options.Samples, total,
            Sampling.AutoStart(active.Length + 1), Confidence, AfterBatch, cancellation);
        if (done < 2) throw new OperationCanceledException(cancellation);
        var y = Column(scores, scorer.Targets, done);
        var final = Fit(masks, y, s, Enumerable.Range(0, done), options, active);
        var stability = Stability(masks, y, s, done, options, active);
        var order = Enumerable.Range(0, s).OrderByDescending(i => final.Weights[i]).ThenBy(i => i).ToArray();
        return new LimeResult(final, y[0], done, options.Seed, stability, cancelled,
            order.Where(i => final.Weights[i] > 0).Take(Sampling.TopCount).ToArray(),
            order.Reverse().Where(i => final.Weights[i] < 0).Take(Sampling.TopCount).ToArray(),
            confidence, Sampling.AutoNote(options.Samples, done, confidence, cancelled));
    }

    /// <summary>Mask rows [count, segments]: the first all ones (the image itself), the rest uniform on/off (lime's randint(0, 2)).</summary>
    public static byte[] Masks(int segments, int count, Random random) => Masks(segments, count, random, paired: false);

    /// <summary>
    /// Mask rows [count, segments]: the first all ones (the image itself), the rest uniform on/off; when
    /// <paramref name="paired"/>, rows 2, 4, … are the complements of rows 1, 3, …. Any prefix is a valid sample.
    /// </summary>
    public static byte[] Masks(int segments, int count, Random random, bool paired)
    {
        var masks = new byte[count * segments];
        Array.Fill(masks, (byte)1, 0, segments);
        for (var row = 1; row < count; row++)
        {
            var o = row * segments;
            if (paired && row % 2 == 0)
                for (var j = 0; j < segments; j++) masks[o + j] = (byte)(1 - masks[o - segments + j]);
            else
                for (var j = 0; j < segments; j++) masks[o + j] = (byte)random.Next(2);
        }
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
    /// Only the <paramref name="active"/> segments (null: all) are fitted; the others weigh 0.
    /// </summary>
    public static LimeFit Fit(byte[] masks, double[] y, int segments, IEnumerable<int> rows, LimeOptions options, IReadOnlyList<int>? active = null)
    {
        var system = Normal(masks, y, segments, rows, options, active ?? Enumerable.Range(0, segments).ToArray());
        var solved = Sampling.SolveSymmetric(system.A, [system.B])[0];
        var beta = new double[segments];
        for (var j = 0; j < system.Active.Count; j++) beta[system.Active[j]] = solved[j];
        var intercept = system.YMean - system.Active.Select((f, j) => system.XMean[j] * solved[j]).Sum();

        double residual = 0, spread = 0;
        for (var i = 0; i < system.Rows.Length; i++)
        {
            var r = system.Rows[i];
            var prediction = Predict(masks, r, segments, beta, intercept);
            residual += system.Weights[i] * Math.Pow(y[r] - prediction, 2);
            spread += system.Weights[i] * Math.Pow(y[r] - system.YMean, 2);
        }
        var r2 = spread > 0 ? 1 - residual / spread : residual == 0 ? 1 : 0;
        return new LimeFit(beta, intercept, r2, intercept + beta.Sum());
    }

    /// <summary>The centred, weighted normal equations over the active segments: A = Xcᵀ W Xc + αI, B = Xcᵀ W yc.</summary>
    private sealed record NormalSystem(int[] Rows, double[] Weights, IReadOnlyList<int> Active, double[] XMean, double YMean, double[,] A, double[] B);

    private static NormalSystem Normal(byte[] masks, double[] y, int segments, IEnumerable<int> rows, LimeOptions options, IReadOnlyList<int> active)
    {
        var used = rows.ToArray();
        var p = active.Count;
        var weights = used.Select(r => KernelWeight(Shown(masks, r, segments), segments, options.KernelWidth)).ToArray();
        double totalWeight = weights.Sum(), yMean = 0;
        var xMean = new double[p];
        for (var i = 0; i < used.Length; i++)
        {
            yMean += weights[i] * y[used[i]];
            for (var j = 0; j < p; j++) xMean[j] += weights[i] * masks[used[i] * segments + active[j]];
        }
        yMean /= totalWeight;
        for (var j = 0; j < p; j++) xMean[j] /= totalWeight;

        // Σ w (x − x̄)(x − x̄)ᵀ = Σ w x xᵀ − W x̄ x̄ᵀ, accumulated over the shown segments of each row only.
        var a = new double[p, p];
        var b = new double[p];
        var shown = new List<int>(p);
        for (var i = 0; i < used.Length; i++)
        {
            shown.Clear();
            for (var j = 0; j < p; j++) if (masks[used[i] * segments + active[j]] != 0) shown.Add(j);
            var dy = y[used[i]] - yMean;
            foreach (var j in shown)
            {
                b[j] += weights[i] * dy;
                foreach (var k in shown) a[j, k] += weights[i];
            }
        }
        for (var j = 0; j < p; j++)
        {
            for (var k = 0; k < p; k++) a[j, k] -= totalWeight * xMean[j] * xMean[k];
            a[j, j] += options.Alpha;
        }
        return new NormalSystem(used, weights, active, xMean, yMean, a, b);
    }

    /// <summary>
    /// The sandwich covariance of <paramref name="fit"/>'s weights from the first <paramref name="count"/> samples,
    /// [segments, segments] (zero for segments not fitted): each sample's term w (x − x̄)(y − ŷ), a mask and its
    /// complement summed into one cluster (they are not independent), the unperturbed image a cluster of its own.
    /// </summary>
    public static double[,] Covariance(byte[] masks, double[] y, int segments, int count, LimeOptions options, IReadOnlyList<int> active, LimeFit fit)
    {
        var system = Normal(masks, y, segments, Enumerable.Range(0, count), options, active);
        var p = active.Count;
        var clusters = new List<double[]>();
        for (var i = 0; i < count; i++)
        {
            if (!(options.Paired && i % 2 == 0 && i > 0)) clusters.Add(new double[p]);
            var residual = y[i] - Predict(masks, i, segments, fit.Weights, fit.Intercept);
            var term = clusters[^1];
            for (var j = 0; j < p; j++) term[j] += system.Weights[i] * (masks[i * segments + active[j]] - system.XMean[j]) * residual;
        }
        var covariance = Sampling.Sandwich(Sampling.Inverse(system.A), clusters);
        var full = new double[segments, segments];
        for (var i = 0; i < p; i++)
            for (var j = 0; j < p; j++) full[active[i], active[j]] = covariance[i, j];
        return full;
    }

    /// <summary>
    /// Agreement of the top segments between fits on the even and the odd samples (pairs stay together; both keep
    /// the unperturbed image, sample 0).
    /// </summary>
    public static double Stability(byte[] masks, double[] y, int segments, int count, LimeOptions options, IReadOnlyList<int>? active = null)
    {
        var unit = options.Paired ? 2 : 1;
        var even = Fit(masks, y, segments, Enumerable.Range(0, count).Where(r => r == 0 || (r - 1) / unit % 2 == 0), options, active);
        var odd = Fit(masks, y, segments, Enumerable.Range(0, count).Where(r => r == 0 || (r - 1) / unit % 2 == 1), options, active);
        return Sampling.Agreement(even.Weights, odd.Weights);
    }

    private static double Predict(byte[] masks, int row, int segments, double[] beta, double intercept)
    {
        var prediction = intercept;
        for (var j = 0; j < segments; j++) if (masks[row * segments + j] != 0) prediction += beta[j];
        return prediction;
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
