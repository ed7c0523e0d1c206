using CnnInterpret.Core.Explainers;
using LimeExplainer = CnnInterpret.Core.Explainers.Lime;

namespace CnnInterpret.Tests.Lime;

/// <summary>Issue 14: paired sampling, inert segments, "converged" and what "auto" stops on.</summary>
public sealed class ConvergenceTests
{
    private static readonly double[] Clear = [2, -1.5, 1.2, 0.9, -0.7, 0.5, 0.35, 0.2, 0.1, 0.05, 0.02, 0.01, 0, 0, 0, 0];

    /// <summary>A linear game with small interactions: the ranking settles, but not at once.</summary>
    private static double Settling(byte[] z) => Games.Linear(0, Clear)(z) + 0.6 * z[0] * z[1] - 0.5 * z[2] * z[5] * z[9];

    /// <summary>Scores with no structure at all: a hash of the mask. No ranking ever settles.</summary>
    private static double Noise(byte[] z)
    {
        var h = 17L;
        foreach (var b in z) h = (h * 31 + b + 1) % 1_000_003;
        return h / 1_000_003.0;
    }

    [Fact]
    public void Spearman_and_top_overlap_match_hand_computed_values()
    {
        Assert.Equal(1, Sampling.Spearman([1, 2, 3, 4], [10, 20, 30, 40]), 12);
        Assert.Equal(-1, Sampling.Spearman([1, 2, 3, 4], [4, 3, 2, 1]), 12);
        // Ranks 1 2 3 4 against 1 3 2 4: Σd² = 2, ρ = 1 − 6·2/(4·15) = 0.8.
        Assert.Equal(0.8, Sampling.Spearman([1, 2, 3, 4], [1, 3, 2, 4]), 12);
        // Ties take their average rank: [1, 1, 2] ranks 1.5 1.5 3; against 1 2 3: Pearson of the ranks = √3/2.
        Assert.Equal(Math.Sqrt(3) / 2, Sampling.Spearman([1, 1, 2], [1, 2, 3]), 12);

        double[] a = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
        double[] b = [9, 8, 7, 6, 5, 4, 3, 0, 1, 2]; // top 8 by |value|: 0–7 vs 0–6 and 9
        Assert.Equal(7, Sampling.TopOverlap(a, b));
        Assert.True(Sampling.Converged(a, a));
        Assert.False(Sampling.Converged(a, [.. a.Reverse()]));
    }

    [Fact]
    public void Paired_lime_masks_are_complements_fair_coins_and_fixed_by_the_seed()
    {
        var masks = LimeExplainer.Masks(12, 4001, new Random(3), paired: true);
        Assert.Equal(masks, LimeExplainer.Masks(12, 4001, new Random(3), paired: true));
        Assert.NotEqual(masks, LimeExplainer.Masks(12, 4001, new Random(4), paired: true));
        Assert.All(masks.Take(12), b => Assert.Equal(1, b)); // row 0: the image itself
        for (var row = 2; row < 4001; row += 2)
            for (var j = 0; j < 12; j++) Assert.Equal(1, masks[row * 12 + j] + masks[(row - 1) * 12 + j]);
        // The odd rows alone are fair coins: each segment shown in about half of them.
        for (var j = 0; j < 12; j++)
            Assert.InRange(Enumerable.Range(0, 2000).Count(k => masks[(2 * k + 1) * 12 + j] == 1), 900, 1100);
        // The unpaired masks are lime's: the same bits as before pairing existed.
        Assert.Equal(LimeExplainer.Masks(12, 50, new Random(3)), LimeExplainer.Masks(12, 50, new Random(3), paired: false));
    }

    [Fact]
    public void A_prefix_of_a_run_is_the_run_with_fewer_samples()
    {
        var partials = new List<AttributionPartial>();
        LimeExplainer.Explain(Games.Of(16, Settling, 50), new LimeOptions(SampleCount.Of(400), 2, PartialInterval: TimeSpan.Zero), partials.Add);
        var shorter = LimeExplainer.Explain(Games.Of(16, Settling), new LimeOptions(SampleCount.Of(150), 2));
        Assert.Equal(shorter.Fit.Weights, partials.Single(p => p.Samples == 150).Values[0]);
    }

    [Fact]
    public void Inert_segments_weigh_exactly_zero_and_leave_the_others_shapley_values_unchanged()
    {
        // Segments 1 and 4 are inert (hiding them changes nothing): the game ignores them, and the scorer says so.
        bool[] inert = [false, true, false, false, true, false, false, false];
        Func<byte[], double> game = z => Games.Nonlinear([z[0], z[2], z[3], z[5], z[6], z[7], 0]);
        var scorer = new PerturbationScorer(8, 1, 64, (masks, start, count) => Enumerable.Range(start, count).Select(r => game(masks[(r * 8)..((r + 1) * 8)])).ToArray(), inert);
        Assert.Equal([0, 2, 3, 5, 6, 7], scorer.Active);

        // 2⁶ = 64 coalitions of the active players ≤ 100 samples: exact, and equal to the game without the inert players.
        var exact = KernelShap.Explain(scorer, new KernelShapOptions(SampleCount.Of(100)));
        Assert.True(exact.Exact);
        Assert.Equal(64, exact.Samples);
        var reduced = KernelShap.Shapley(6, c => game([(byte)(c & 1), 0, (byte)(c >> 1 & 1), (byte)(c >> 2 & 1), 0, (byte)(c >> 3 & 1), (byte)(c >> 4 & 1), (byte)(c >> 5 & 1)]));
        Assert.Equal(0, exact.Values[0][1]);
        Assert.Equal(0, exact.Values[0][4]);
        int[] active = [0, 2, 3, 5, 6, 7];
        for (var j = 0; j < 6; j++) Assert.Equal(reduced[j], exact.Values[0][active[j]], 12);

        // Sampled (wider game): still exactly 0 for the inert ones, and efficiency exact.
        var wide = new bool[20];
        wide[3] = wide[11] = true;
        var blind = new PerturbationScorer(20, 1, 64, (m, start, count) => Enumerable.Range(start, count).Select(r =>
        {
            var z = m[(r * 20)..((r + 1) * 20)];
            z[3] = z[11] = 0; // the game cannot see them
            return Games.Nonlinear(z);
        }).ToArray(), wide);
        var sampled = KernelShap.Explain(blind, new KernelShapOptions(SampleCount.Of(300), 4));
        Assert.False(sampled.Exact);
        Assert.Equal(0, sampled.Values[0][3]);
        Assert.Equal(0, sampled.Values[0][11]);
        Assert.Equal(sampled.Fx[0] - sampled.FBaseline[0], sampled.Values[0].Sum(), 10);

        var lime = LimeExplainer.Explain(scorer, new LimeOptions(SampleCount.Of(300), 1));
        Assert.Equal(0, lime.Fit.Weights[1]);
        Assert.Equal(0, lime.Fit.Weights[4]);
    }

    [Theory]
    [InlineData("lime")]
    [InlineData("kernel-shap")]
    public void Auto_stops_early_on_a_settling_game_with_a_confidence_that_holds_against_10000_samples(string method)
    {
        var auto = Run(method, Games.Of(16, Settling), SampleCount.Parse("auto", 1000), 0);
        var reference = Run(method, Games.Of(16, Settling), SampleCount.Of(10_000), 1);
        Assert.InRange(auto.Samples, Sampling.AutoMinimum, 1000);
        Assert.Equal(0, auto.Samples % Sampling.AutoStep);
        Assert.InRange(auto.Confidence, Sampling.TargetConfidence, 1);
        Assert.StartsWith($"auto stopped at {auto.Samples} samples", auto.Note);
        Assert.True(Sampling.Converged(auto.Values, reference.Values));
        // A fixed count reports no confidence: it was not asked to judge.
        Assert.True(double.IsNaN(Run(method, Games.Of(16, Settling), SampleCount.Of(200), 0).Confidence));
    }

    [Theory]
    [InlineData("lime")]
    [InlineData("kernel-shap")]
    public void Auto_that_cannot_converge_within_its_cap_says_so_and_never_runs_past_it(string method)
    {
        var scorer = Games.Of(16, Noise, batchSize: 64);
        var capped = Run(method, scorer, new SampleCount(400, true), 0);
        Assert.Equal(400, capped.Samples);
        Assert.Equal(400, scorer.Evaluations); // not one forward past the cap, though batches are 64
        Assert.InRange(capped.Confidence, 0, Sampling.TargetConfidence - 1e-9);
        Assert.Contains("did not converge within its cap of 400 samples", capped.Note);
        Assert.Contains("Try", capped.Note);
    }

    [Theory]
    [InlineData("lime")]
    [InlineData("kernel-shap")]
    public void Auto_gives_the_same_answer_whatever_the_batch_size(string method)
    {
        var reference = Run(method, Games.Of(16, Settling, 64), SampleCount.Parse("auto", 1000), 5);
        foreach (var batch in new[] { 1, 7, 333 })
        {
            var other = Run(method, Games.Of(16, Settling, batch), SampleCount.Parse("auto", 1000), 5);
            Assert.Equal(reference.Samples, other.Samples);
            Assert.Equal(reference.Values, other.Values);
            Assert.Equal(reference.Confidence, other.Confidence);
        }
    }

    [Fact]
    public void The_sandwich_variance_matches_the_spread_of_the_weights_across_seeds()
    {
        // 300 runs of 300 samples: the variance of each weight across seeds against the mean of the runs' own estimates.
        const int runs = 300, samples = 300;
        var scorer = Games.Of(10, Games.Nonlinear);
        var options = new LimeOptions(SampleCount.Of(samples));
        var weights = new List<double[]>();
        var estimated = new double[10];
        for (var seed = 0; seed < runs; seed++)
        {
            var masks = LimeExplainer.Masks(10, samples, new Random(seed), paired: true);
            var y = Enumerable.Range(0, samples).Select(r => Games.Nonlinear(masks[(r * 10)..((r + 1) * 10)])).ToArray();
            var active = Enumerable.Range(0, 10).ToArray();
            var fit = LimeExplainer.Fit(masks, y, 10, Enumerable.Range(0, samples), options, active);
            var covariance = LimeExplainer.Covariance(masks, y, 10, samples, options, active, fit);
            weights.Add(fit.Weights);
            for (var j = 0; j < 10; j++) estimated[j] += covariance[j, j] / runs;
        }
        for (var j = 0; j < 10; j++)
        {
            var mean = weights.Average(w => w[j]);
            var observed = weights.Sum(w => (w[j] - mean) * (w[j] - mean)) / (runs - 1);
            Assert.InRange(estimated[j] / observed, 0.7, 1.4);
        }
    }

    [Fact]
    public void Confidence_is_one_without_uncertainty_and_low_when_it_swamps_the_ranking()
    {
        double[] estimate = [5, 4, 3, 2, 1, 0.5, 0.25, 0.1, 0, 0];
        Assert.Equal(1, Sampling.Confidence(estimate, new double[10, 10], 0));
        var large = new double[10, 10];
        for (var j = 0; j < 10; j++) large[j, j] = 100;
        Assert.InRange(Sampling.Confidence(estimate, large, 0), 0, 0.05);
        var small = new double[10, 10];
        for (var j = 0; j < 10; j++) small[j, j] = 1e-6;
        Assert.Equal(1, Sampling.Confidence(estimate, small, 0));
        Assert.Equal(Sampling.Confidence(estimate, large, 3), Sampling.Confidence(estimate, large, 3));
        // Too few clusters for the unknowns: the sandwich is infinite, and NaN once ∞ − ∞ meets it. Not "certain".
        var unknown = new double[10, 10];
        for (var j = 0; j < 10; j++) unknown[j, j] = double.NaN;
        Assert.Equal(0, Sampling.Confidence(estimate, unknown, 0));
    }

    private sealed record Outcome(double[] Values, int Samples, double Confidence, string? Note);

    private static Outcome Run(string method, PerturbationScorer scorer, SampleCount samples, int seed)
    {
        if (method == "lime")
        {
            var lime = LimeExplainer.Explain(scorer, new LimeOptions(samples, seed));
            return new(lime.Fit.Weights, lime.Samples, lime.Confidence, lime.Note);
        }
        var shap = KernelShap.Explain(scorer, new KernelShapOptions(samples, seed));
        return new(shap.Values[0], shap.Samples, shap.Confidence, shap.Note);
    }
}
