using CnnInterpret.Core.Explainers;
using LimeExplainer = CnnInterpret.Core.Explainers.Lime;

namespace CnnInterpret.Tests.Lime;

public sealed class LimeTests
{
    private static readonly double[] Coefficients = [0.5, -0.3, 0.0, 0.25, 0.9, -0.6, 0.1, 0.05, -0.15, 0.4, 0.0, 0.2];

    [Fact]
    public void Recovers_the_coefficients_of_a_model_linear_in_its_segments()
    {
        var scorer = Games.Of(12, Games.Linear(0.2, Coefficients));
        // Without the ridge penalty the weighted least squares is exact on a linear model.
        var exact = LimeExplainer.Explain(scorer, new LimeOptions(SampleCount.Of(500), Alpha: 1e-9));
        for (var i = 0; i < 12; i++) Assert.Equal(Coefficients[i], exact.Fit.Weights[i], 6);
        Assert.Equal(0.2, exact.Fit.Intercept, 6);
        Assert.Equal(1, exact.Fit.R2, 9);
        Assert.Equal(0.2 + Coefficients.Sum(), exact.Score, 12);
        Assert.Equal(exact.Score, exact.Fit.LocalPrediction, 6);

        // lime's own settings (ridge α = 1) shrink a little: within 3 % of each coefficient's scale.
        var lime = LimeExplainer.Explain(scorer, new LimeOptions(SampleCount.Of(1000)));
        for (var i = 0; i < 12; i++) Assert.Equal(Coefficients[i], lime.Fit.Weights[i], 0.03);
        Assert.Equal([4, 0, 9, 3, 11, 6, 7], lime.TopPositive.Take(7)); // then maybe a zero coefficient's tiny weight
        Assert.Equal([5, 1, 8], lime.TopNegative.Take(3));
        Assert.True(lime.Fit.R2 > 0.99);
    }

    [Fact]
    public void Ridge_matches_the_closed_form_on_two_segments()
    {
        // Four samples, two segments; y = masks·[1, 2] + noise-free intercept 3, then a perturbed y for a residual.
        byte[] masks = [1, 1, 0, 1, 1, 0, 0, 0];
        double[] y = [6, 5, 4.5, 3];
        var options = new LimeOptions(SampleCount.Of(10));
        var fit = LimeExplainer.Fit(masks, y, 2, [0, 1, 2, 3], options);

        // By hand: weights w = √exp(−d²/0.0625), d = 1 − √(shown/2); then sklearn's centred normal equations.
        double W(int shown) => LimeExplainer.KernelWeight(shown, 2, 0.25);
        double[] w = [W(2), W(1), W(1), W(0)];
        Assert.Equal(1, w[0], 12);
        Assert.Equal(Math.Sqrt(Math.Exp(-Math.Pow(1 - Math.Sqrt(0.5), 2) / 0.0625)), w[1], 12);
        Assert.Equal(Math.Exp(-8), w[3], 12);
        double[][] x = [[1, 1], [0, 1], [1, 0], [0, 0]];
        var total = w.Sum();
        var xm = new[] { Enumerable.Range(0, 4).Sum(i => w[i] * x[i][0]) / total, Enumerable.Range(0, 4).Sum(i => w[i] * x[i][1]) / total };
        var ym = Enumerable.Range(0, 4).Sum(i => w[i] * y[i]) / total;
        double a00 = 1, a11 = 1, a01 = 0, b0 = 0, b1 = 0; // α = 1 on the diagonal
        for (var i = 0; i < 4; i++)
        {
            double c0 = x[i][0] - xm[0], c1 = x[i][1] - xm[1], cy = y[i] - ym;
            a00 += w[i] * c0 * c0; a11 += w[i] * c1 * c1; a01 += w[i] * c0 * c1;
            b0 += w[i] * c0 * cy; b1 += w[i] * c1 * cy;
        }
        var det = a00 * a11 - a01 * a01;
        var beta0 = (a11 * b0 - a01 * b1) / det;
        var beta1 = (a00 * b1 - a01 * b0) / det;
        Assert.Equal(beta0, fit.Weights[0], 12);
        Assert.Equal(beta1, fit.Weights[1], 12);
        Assert.Equal(ym - xm[0] * beta0 - xm[1] * beta1, fit.Intercept, 12);
    }

    [Fact]
    public void The_same_seed_gives_the_same_numbers_whatever_the_batch_size()
    {
        LimeResult Run(int seed, int batch) => LimeExplainer.Explain(Games.Of(10, Games.Nonlinear, batch), new LimeOptions(SampleCount.Of(300), seed));
        var reference = Run(7, 64);
        foreach (var batch in new[] { 1, 7, 300, 1000 })
        {
            var other = Run(7, batch);
            Assert.Equal(reference.Fit.Weights, other.Fit.Weights);
            Assert.Equal(reference.Fit.R2, other.Fit.R2);
            Assert.Equal(reference.Stability, other.Stability);
        }
        Assert.NotEqual(reference.Fit.Weights, Run(8, 64).Fit.Weights);

        var masks = LimeExplainer.Masks(10, 300, new Random(7));
        Assert.All(masks.Take(10), b => Assert.Equal(1, b)); // the first sample is the image itself
        Assert.InRange(masks.Skip(10).Count(b => b == 1), 1300, 1600); // the rest: fair coins
    }

    [Fact]
    public void Cancellation_stops_at_the_next_batch_and_returns_the_fit_so_far()
    {
        using var cancel = new CancellationTokenSource();
        var batches = 0;
        var scorer = Games.Of(12, Games.Linear(0, Coefficients), batchSize: 50, onBatch: n =>
        {
            batches = n;
            if (n == 3) cancel.Cancel(); // the third batch still completes; no fourth starts
        });
        var partials = new List<AttributionPartial>();
        var result = LimeExplainer.Explain(scorer, new LimeOptions(SampleCount.Of(1000), PartialInterval: TimeSpan.Zero), partials.Add, cancel.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(3, batches);
        Assert.Equal(150, result.Samples);
        Assert.Equal(150, scorer.Evaluations);
        Assert.Equal(0.9, result.Fit.Weights[4], 0.1);
        Assert.Equal([50, 100, 150], partials.Select(p => p.Samples));
        Assert.All(partials, p => Assert.Equal(1000, p.Total));
    }

    [Fact]
    public void Partial_results_converge_to_the_final_weights()
    {
        var partials = new List<AttributionPartial>();
        var result = LimeExplainer.Explain(Games.Of(12, Games.Nonlinear, 100), new LimeOptions(SampleCount.Of(1000), 3, PartialInterval: TimeSpan.Zero), partials.Add);
        Assert.Equal(10, partials.Count);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => i * 100), partials.Select(p => p.Samples));
        Assert.Equal(result.Fit.Weights, partials[^1].Values[0]);
        Assert.False(result.Cancelled);
    }

    [Fact]
    public void Auto_stops_once_it_is_confident_the_ranking_has_converged()
    {
        // Well separated coefficients: the ranking settles quickly.
        double[] clear = [2, -1.5, 1.2, 0.9, -0.7, 0.5, 0.35, 0.2, 0.1, 0.05, 0.02, 0.01, 0, 0, 0, 0];
        var scorer = Games.Of(16, z => Games.Linear(0, clear)(z) + 0.02 * Math.Sin(997 * z.Select((v, i) => v * (i + 1.0)).Sum()));
        var result = LimeExplainer.Explain(scorer, new LimeOptions(new SampleCount(SampleCount.AutoMax, true)));
        Assert.InRange(result.Samples, Sampling.AutoMinimum, 1000);
        Assert.Equal(0, result.Samples % Sampling.AutoStep);
        Assert.True(result.Confidence >= Sampling.TargetConfidence);
        Assert.False(result.Cancelled);
        Assert.Equal([0, 2, 3, 5, 6, 7], result.TopPositive.Take(6));
    }

    [Fact]
    public void Stability_is_the_share_of_the_top_segments_both_halves_pick()
    {
        Assert.Equal(1, Sampling.Agreement([5, 4, 3, 2, 1, 0, 0, 0], [4, 5, 3, -2, 0, 0, 0, 0]));
        Assert.Equal(0.75, Sampling.Agreement([5, 4, 3, 2, 1, 0, 0, 0], [5, 4, 3, 0, 0, 0, 0, 9]));
        Assert.Equal(0.625, Sampling.Agreement(Enumerable.Range(0, 20).Select(i => (double)i).ToArray(), Enumerable.Range(0, 20).Select(i => i < 16 ? i : -i / 100.0 + (i == 16 ? 30 : 0)).ToArray()), 9);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("9")]
    [InlineData("100001")]
    [InlineData("-5")]
    [InlineData("lots")]
    public void Absurd_sample_counts_are_refused_with_the_range(string samples)
    {
        var e = Assert.Throws<Core.CnnInterpretException>(() => SampleCount.Parse(samples, 1000));
        Assert.Equal(Core.ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("between 10 and 100000", e.Message);
        Assert.Contains("auto", e.Message);
    }
}
