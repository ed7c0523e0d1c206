using CnnInterpret.Core.Explainers;
using CnnInterpret.Tests.Lime;

namespace CnnInterpret.Tests.Shap;

public sealed class KernelShapTests
{
    /// <summary>v over three players, by coalition bits (bit j = player j): v(∅)=0, v(0)=1, v(1)=2, v(2)=0, v(01)=4, v(02)=1, v(12)=3, v(012)=6.</summary>
    private static readonly double[] Table = [0, 1, 2, 4, 0, 1, 3, 6];

    private static double Bits(byte[] z) => Table[z[0] + 2 * z[1] + 4 * z[2]];

    [Fact]
    public void Shapley_values_of_a_small_game_match_the_hand_computation()
    {
        // φ0 = ⅓·1 + ⅙·(4−2) + ⅙·(1−0) + ⅓·(6−3) = 11/6
        // φ1 = ⅓·2 + ⅙·(4−1) + ⅙·(3−0) + ⅓·(6−1) = 10/3
        // φ2 = ⅓·0 + ⅙·(1−1) + ⅙·(3−2) + ⅓·(6−4) = 5/6
        var formula = KernelShap.Shapley(3, c => Table[c]);
        Assert.Equal(11.0 / 6, formula[0], 12);
        Assert.Equal(10.0 / 3, formula[1], 12);
        Assert.Equal(5.0 / 6, formula[2], 12);

        // 2³ = 8 ≤ 10 samples: KernelSHAP enumerates every coalition and uses the formula.
        var scorer = Games.Of(3, Bits);
        var result = KernelShap.Explain(scorer, new KernelShapOptions(SampleCount.Of(10)));
        Assert.True(result.Exact);
        Assert.Equal(8, result.Samples);
        Assert.Equal(8, scorer.Evaluations);
        Assert.Equal(formula, result.Values[0]);
        Assert.Equal(6, result.Fx[0]);
        Assert.Equal(0, result.FBaseline[0]);
    }

    [Fact]
    public void Auto_samples_enumerate_when_every_coalition_costs_less_than_auto_could_stop_at()
    {
        var auto = SampleCount.Parse("auto", KernelShap.DefaultSamples);
        var small = KernelShap.Explain(Games.Of(3, Bits), new KernelShapOptions(auto));
        Assert.True(small.Exact);
        Assert.Equal(8, small.Samples);
        Assert.Equal(KernelShap.Shapley(3, c => Table[c]), small.Values[0]);

        // 2⁹ = 512 ≤ 1000, what a default run costs: exact too. 2¹¹ = 2048 > 1000: it samples.
        var nine = KernelShap.Explain(Games.Of(9, Games.Nonlinear), new KernelShapOptions(auto));
        Assert.True(nine.Exact);
        Assert.Equal(512, nine.Samples);
        Assert.Equal(1, nine.Confidence);
        var large = KernelShap.Explain(Games.Of(11, Games.Nonlinear), new KernelShapOptions(auto));
        Assert.False(large.Exact);
        Assert.True(large.Samples >= Sampling.AutoStart(11));
        // It enumerates sizes 1, 2, 9 and 10 as a default run would (132 coalitions) and checks from 150 rows on, when only
        // 8 drawn pairs are in: fewer than the 12 unknowns' sandwich needs, so it may not stop there.
        Assert.Equal(132, KernelShap.Plan(11, KernelShap.DefaultSamples).Enumerated);
        Assert.True((large.Samples - 2 - 132) / 2 > 12, $"stopped at {large.Samples}");
    }

    [Fact]
    public void Exact_enumeration_reports_partial_estimates_and_can_be_cancelled()
    {
        // 2⁸ = 256 ≤ 300 samples: exact. Partial results are kernel-weighted regressions on the coalitions so far.
        var exact = KernelShap.Shapley(8, c => Games.Nonlinear(Enumerable.Range(0, 8).Select(j => (byte)(c >> j & 1)).ToArray()));
        var partials = new List<AttributionPartial>();
        var full = KernelShap.Explain(Games.Of(8, Games.Nonlinear, 64), new KernelShapOptions(SampleCount.Of(300), PartialInterval: TimeSpan.Zero), partials.Add);
        Assert.True(full.Exact);
        for (var i = 0; i < 8; i++) Assert.Equal(exact[i], full.Values[0][i], 12);
        Assert.Equal([64, 128, 192, 256], partials.Select(p => p.Samples));
        // With every coalition, the Shapley-kernel regression IS the Shapley value (Lundberg and Lee, Theorem 2).
        for (var i = 0; i < 8; i++) Assert.Equal(exact[i], partials[^1].Values[0][i], 9);

        using var cancel = new CancellationTokenSource();
        var cut = KernelShap.Explain(Games.Of(8, Games.Nonlinear, 64, n => { if (n == 2) cancel.Cancel(); }), new KernelShapOptions(SampleCount.Of(300)), null, cancel.Token);
        Assert.True(cut.Cancelled);
        Assert.False(cut.Exact);
        Assert.Equal(128, cut.Samples);
        Assert.Equal(cut.Fx[0] - cut.FBaseline[0], cut.Values[0].Sum(), 10);
        Assert.InRange(cut.Stability, 0, 1);
    }

    [Fact]
    public void Symmetric_players_get_equal_values_and_a_dummy_gets_zero()
    {
        // Players 0 and 1 enter only through z0 + z1; player 3 never changes the value. 2⁴ = 16 ≤ 16 samples: exact.
        var result = KernelShap.Explain(Games.Of(4, z => Math.Pow(z[0] + z[1], 2) + 0.5 * z[2] * (z[0] + z[1])), new KernelShapOptions(SampleCount.Of(16)));
        Assert.True(result.Exact);
        var phi = result.Values[0];
        Assert.Equal(phi[0], phi[1], 12);
        Assert.Equal(0, phi[3], 12);
        Assert.Equal(4 + 1, phi.Sum(), 12); // efficiency: v(1111) − v(0000) = 2² + 0.5·2
        // By hand for player 2: it adds 0.5·(z0 + z1): ¼·0 + … = 0.5 · E[z0 + z1 | a random order puts 2 after them] = 0.5 · (½ + ½) = 0.5.
        Assert.Equal(0.5, phi[2], 12);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Recovers_the_coefficients_of_a_model_linear_in_its_segments(bool paired)
    {
        double[] c = [0.5, -0.3, 0.0, 0.25, 0.9, -0.6, 0.1, 0.05, -0.15, 0.4, 0.0, 0.2];
        var result = KernelShap.Explain(Games.Of(12, Games.Linear(0.7, c)), new KernelShapOptions(SampleCount.Of(600), 1, paired));
        Assert.False(result.Exact); // 2¹² = 4096 > 600
        Assert.Equal(paired, result.Paired);
        for (var i = 0; i < 12; i++) Assert.Equal(c[i], result.Values[0][i], 9);
        Assert.Equal(0.7 + c.Sum(), result.Fx[0], 12);
        Assert.Equal(0.7, result.FBaseline[0], 12);
        Assert.Equal(1, result.Stability);
    }

    [Fact]
    public void Efficiency_holds_exactly_when_sampling_a_game_with_interactions()
    {
        var full = Games.Nonlinear(Enumerable.Repeat((byte)1, 14).ToArray());
        var empty = Games.Nonlinear(new byte[14]);
        foreach (var paired in new[] { true, false })
        {
            var result = KernelShap.Explain(Games.Of(14, Games.Nonlinear), new KernelShapOptions(SampleCount.Of(300), 5, paired));
            Assert.Equal(full - empty, result.Values[0].Sum(), 10);
            Assert.Equal(full, result.Fx[0]);
            Assert.Equal(empty, result.FBaseline[0]);
        }
    }

    [Fact]
    public void Sampled_values_approach_the_exact_ones()
    {
        var exact = KernelShap.Shapley(10, c => Games.Nonlinear(Enumerable.Range(0, 10).Select(j => (byte)(c >> j & 1)).ToArray()));
        var sampled = KernelShap.Explain(Games.Of(10, Games.Nonlinear), new KernelShapOptions(SampleCount.Of(1000), 2)).Values[0];
        var error = Math.Sqrt(exact.Zip(sampled, (a, b) => (a - b) * (a - b)).Sum() / exact.Select(a => a * a).Sum());
        Assert.True(error < 0.05, $"relative error {error:F3}");
    }

    [Fact]
    public void Two_targets_come_from_one_set_of_forwards()
    {
        Func<byte[], double> second = z => -2 * Games.Nonlinear(z) + z[3];
        var both = Games.Of(12, Games.Nonlinear, second);
        var result = KernelShap.Explain(both, new KernelShapOptions(SampleCount.Of(400), 9));
        Assert.Equal(400, both.Evaluations);
        Assert.Equal(KernelShap.Explain(Games.Of(12, Games.Nonlinear), new KernelShapOptions(SampleCount.Of(400), 9)).Values[0], result.Values[0]);
        Assert.Equal(KernelShap.Explain(Games.Of(12, second), new KernelShapOptions(SampleCount.Of(400), 9)).Values[0], result.Values[1]);
    }

    [Fact]
    public void The_same_seed_gives_the_same_numbers_whatever_the_batch_size()
    {
        KernelShapResult Run(int seed, int batch) => KernelShap.Explain(Games.Of(12, Games.Nonlinear, batch), new KernelShapOptions(SampleCount.Of(500), seed));
        var reference = Run(4, 64);
        foreach (var batch in new[] { 1, 3, 250, 999 })
        {
            var other = Run(4, batch);
            Assert.Equal(reference.Values[0], other.Values[0]);
            Assert.Equal(reference.Stability, other.Stability);
        }
        Assert.NotEqual(reference.Values[0], Run(5, 64).Values[0]);
    }

    [Fact]
    public void Paired_masks_come_with_their_complements_and_follow_the_kernel()
    {
        const int m = 8;
        // No size enumerated (20,002 rows would enumerate sizes 1–3 and 5–7 of 8): every coalition drawn.
        var masks = KernelShap.Masks(m, 20_002, new Random(1), paired: true, plan: new CoalitionPlan(0, 0, 1));
        Assert.All(masks.Take(m), b => Assert.Equal(1, b));
        Assert.All(masks.Skip(m).Take(m), b => Assert.Equal(0, b));
        var sizes = new int[m + 1];
        for (var row = 2; row < 20_002; row++)
        {
            var size = 0;
            for (var j = 0; j < m; j++) size += masks[row * m + j];
            sizes[size]++;
            if (row % 2 == 1)
                for (var j = 0; j < m; j++) Assert.Equal(1, masks[row * m + j] + masks[(row - 1) * m + j]);
        }
        Assert.Equal(0, sizes[0] + sizes[m]);
        // Size s is drawn with probability ∝ 1/(s(m−s)): sizes 1 and 7 are 16/7 ≈ 2.3 times as common as size 4.
        var ratio = (sizes[1] + sizes[7]) / 2.0 / sizes[4];
        Assert.InRange(ratio, 2.0, 2.6);
    }

    [Fact]
    public void Cancellation_stops_at_the_next_batch_and_returns_the_estimate_so_far()
    {
        using var cancel = new CancellationTokenSource();
        var batches = 0;
        var scorer = Games.Of(12, Games.Nonlinear, batchSize: 40, onBatch: n =>
        {
            batches = n;
            if (n == 2) cancel.Cancel();
        });
        var partials = new List<AttributionPartial>();
        var result = KernelShap.Explain(scorer, new KernelShapOptions(SampleCount.Of(1000), PartialInterval: TimeSpan.Zero), partials.Add, cancel.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(2, batches);
        Assert.Equal(80, result.Samples);
        Assert.Equal([40, 80], partials.Select(p => p.Samples));
        Assert.Equal(result.Values[0], partials[^1].Values[0]);
        Assert.Equal(result.Fx[0] - result.FBaseline[0], result.Values[0].Sum(), 10);
    }

    [Fact]
    public void The_smallest_and_largest_sizes_are_enumerated_once_each_when_the_budget_covers_them()
    {
        // 12 players: sizes 1 and 11 hold 2/(2·H₁₁·11/12) ≈ 36 % of the kernel's mass, 24 coalitions; 100 rows leave 98
        // for coalitions, 98 · 0.36 ≈ 35 ≥ 24: enumerated. Sizes 2 and 10 (132 coalitions, 1.1/3.536 ≈ 31 % of the mass
        // left) need 132/0.311 ≈ 424.4 rows after those 24 and the 2 fixed ones: 451 rows.
        const int m = 12;
        var plan = KernelShap.Plan(m, 100);
        Assert.Equal(1, plan.EnumeratedSizes);
        Assert.Equal(24, plan.Enumerated);
        Assert.Equal(2, KernelShap.Plan(m, 451).EnumeratedSizes);
        Assert.Equal(24 + 132, KernelShap.Plan(m, 451).Enumerated);
        Assert.Equal(1, KernelShap.Plan(m, 450).EnumeratedSizes);
        Assert.Equal(0, KernelShap.Plan(m, 60).EnumeratedSizes); // 58 · 0.36 ≈ 21 < 24
        // The mass left to sampling is the kernel's mass on sizes 2…10: Σ (m−1)/(s(m−s)).
        Assert.Equal(Enumerable.Range(2, 9).Sum(s => (m - 1.0) / (s * (m - s))), plan.SampledMass, 12);

        var masks = KernelShap.Masks(m, 100, new Random(3), paired: true);
        var rows = Enumerable.Range(2, 98).Select(r => masks[(r * m)..((r + 1) * m)]).ToArray();
        var enumerated = rows.Take(24).Select(z => string.Concat(z)).ToList();
        var singletons = Enumerable.Range(0, m).Select(i => string.Concat(Enumerable.Range(0, m).Select(j => j == i ? 1 : 0))).ToList();
        var allBut = Enumerable.Range(0, m).Select(i => string.Concat(Enumerable.Range(0, m).Select(j => j == i ? 0 : 1))).ToList();
        Assert.Equal(singletons.Concat(allBut).Order(), enumerated.Order()); // each exactly once
        for (var r = 0; r < 24; r += 2) Assert.Equal(m, rows[r].Zip(rows[r + 1], (a, b) => a + b).Count(n => n == 1)); // pairs: a coalition and its complement
        Assert.All(rows.Skip(24), z => Assert.InRange(z.Sum(b => b), 2, m - 2)); // the sampled ones come from the sizes left
    }

    [Theory]
    [InlineData(200)] // sizes 1 and 11 enumerated (24 coalitions)
    [InlineData(500)] // sizes 1, 2, 10 and 11 (156)
    public void Enumerating_the_outer_sizes_brings_the_estimate_closer_to_the_Shapley_values(int samples)
    {
        // The same budget over 12 players, over 20 seeds: the old estimator (every size sampled, weights 1, which Masks
        // still draws when the plan enumerates nothing) against this one.
        const int m = 12;
        var exact = KernelShap.Shapley(m, c => Games.Nonlinear(Enumerable.Range(0, m).Select(j => (byte)(c >> j & 1)).ToArray()));
        double Error(double[] phi) => Math.Sqrt(exact.Zip(phi, (a, b) => (a - b) * (a - b)).Sum() / exact.Select(a => a * a).Sum());
        double sampledOnly = 0, hybrid = 0;
        for (var seed = 0; seed < 20; seed++)
        {
            var masks = KernelShap.Masks(m, samples, new Random(seed), paired: true, plan: new CoalitionPlan(0, 0, 1));
            var scores = Enumerable.Range(0, samples).Select(r => Games.Nonlinear(masks[(r * m)..((r + 1) * m)])).ToArray();
            sampledOnly += Error(KernelShap.Solve(masks, scores, m, 1, Enumerable.Range(2, samples - 2))[0]) / 20;
            var result = KernelShap.Explain(Games.Of(m, Games.Nonlinear), new KernelShapOptions(SampleCount.Of(samples), seed));
            Assert.False(result.Exact);
            Assert.Equal(exact.Sum(), result.Values[0].Sum(), 10); // efficiency
            hybrid += Error(result.Values[0]) / 20;
        }
        Assert.True(hybrid < 0.9 * sampledOnly, $"mean relative error {hybrid:F4} enumerating vs {sampledOnly:F4} sampling every size");
    }
}
