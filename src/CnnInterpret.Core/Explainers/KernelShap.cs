namespace CnnInterpret.Core.Explainers;

/// <param name="Paired">Draw each coalition together with its complement (antithetic sampling).</param>
public sealed record KernelShapOptions(
    SampleCount Samples,
    int Seed = 0,
    bool Paired = true,
    TimeSpan? PartialInterval = null);

/// <summary>Shapley values of the segments, per target: Σ Values[t] = Fx[t] − FBaseline[t] exactly.</summary>
/// <param name="Fx">f(image): every segment shown.</param>
/// <param name="FBaseline">f(all segments hidden).</param>
/// <param name="Samples">Model evaluations used, the two above included.</param>
/// <param name="Exact">True when every coalition was evaluated and the values come from Shapley's formula.</param>
/// <param name="Stability">Agreement of the top segments between estimates from two halves of the samples (1 when exact).</param>
/// <param name="Confidence">"auto" only (else NaN): its estimated chance that the first target's values have converged (<see cref="Sampling.Confidence"/>; 1 when exact).</param>
/// <param name="Note">"auto" only: where it stopped and how sure it is, or that it did not converge within its cap and what to try.</param>
public sealed record KernelShapResult(
    double[][] Values,
    double[] Fx,
    double[] FBaseline,
    int Samples,
    int Seed,
    bool Exact,
    bool Paired,
    double Stability,
    bool Cancelled,
    double Confidence = double.NaN,
    string? Note = null);

/// <summary>
/// How a sampled KernelSHAP run covers the coalition sizes (<see cref="KernelShap.Plan"/>): every coalition of sizes
/// 1…EnumeratedSizes and M−EnumeratedSizes…M−1 (Enumerated of them, rows 2… of the masks), then draws from the sizes
/// between, which hold SampledMass of the kernel's mass (its mass on size s being (M−1)/(s(M−s))).
/// </summary>
public sealed record CoalitionPlan(int EnumeratedSizes, int Enumerated, double SampledMass);

/// <summary>
/// KernelSHAP over superpixels: Lundberg and Lee, "A Unified Approach to Interpreting Model Predictions",
/// NeurIPS 2017. As the shap library's KernelExplainer does, the smallest and largest coalition sizes (1 and M−1,
/// then 2 and M−2, …) are enumerated outright, each with its kernel weight, for as long as a size's share of the
/// kernel's remaining mass, in samples, covers all its coalitions (<see cref="Plan"/>): for M ≈ 15 sizes 1, 2,
/// M−2 and M−1 hold about half the kernel's mass in 240 coalitions, and sampling them is what made the estimate
/// noisy. The other coalitions z are drawn from the kernel's distribution over the sizes left (size s with
/// probability ∝ (M−1)/(s(M−s)), then a uniform subset of that size) and share that mass equally; with
/// <see cref="KernelShapOptions.Paired"/> each draw comes with its complement (Covert and Lee, "Improving
/// KernelSHAP", AISTATS 2021). The values solve min Σ w (f(z) − f(∅) − φ·z)² subject to Σφ = f(x) − f(∅)
/// exactly, by a Lagrange multiplier (the constraint the shap library enforces by eliminating one variable).
/// When 2^M evaluations fit in the requested samples every coalition is evaluated and the values come from
/// Shapley's formula itself. Segments whose hiding changes no pixel
/// (<see cref="PerturbationScorer.Active"/>) are dummy players: their value is exactly 0, and leaving them out of
/// the game changes no other player's value, so coalitions are drawn over the others only. "auto" stops once the
/// sandwich covariance of the constrained estimate says the ranking has converged with <see cref="Sampling.TargetConfidence"/>.
/// </summary>
public static class KernelShap
{
    public const int DefaultSamples = 1000;

    public static KernelShapResult Explain(PerturbationScorer scorer, KernelShapOptions options, Action<AttributionPartial>? partial = null,
        CancellationToken cancellation = default)
    {
        int m = scorer.Segments, targets = scorer.Targets;
        var active = scorer.Active;
        // "auto" enumerates when a default run would: every coalition costs no more than DefaultSamples. Sampling
        // instead, it stopped at 4000 samples on a sandal with 8 live segments that 256 evaluations answer exactly.
        if (active.Length < 31 && 1L << active.Length <= (options.Samples.Auto ? Math.Max(Sampling.AutoStart(active.Length), DefaultSamples) : options.Samples.Count))
            return Exactly(scorer, options, partial, cancellation);

        var total = options.Paired ? 2 + (options.Samples.Count - 2) / 2 * 2 : options.Samples.Count;
        // "auto" enumerates what a default run would: it may stop soon after, and its cap is no budget it plans to spend.
        var plan = Plan(active.Length, options.Samples.Auto ? Math.Min(total, DefaultSamples) : total);
        var masks = Masks(m, total, new Random(options.Seed), options.Paired, active, plan);
        var scores = new double[total * targets];
        double[][] Fit(int[] rows) => Solve(masks, scores, m, targets, rows, Weights(masks, m, active, plan, rows), active);
        var timer = new PartialTimer(options.PartialInterval ?? TimeSpan.FromSeconds(1));
        void AfterBatch(int scored)
        {
            var usable = Usable(scored, options.Paired);
            if (partial is null || usable < 4 || !timer.Due()) return;
            partial(new AttributionPartial(usable, total, Fit([.. SampleRows(usable)])));
        }
        double Confidence(int scored)
        {
            var rows = SampleRows(Usable(scored, options.Paired)).ToArray();
            var weights = Weights(masks, m, active, plan, rows);
            var values = Solve(masks, scores, m, targets, rows, weights, active)[0];
            return Sampling.Confidence(values, Covariance(masks, scores, m, targets, rows, weights, 2 + plan.Enumerated, options.Paired, active, values), options.Seed);
        }

        // AutoStep (50) is even: "auto" checks only whole pairs, and only once the enumerated coalitions are all in (before
        // that the sampled ones, whose spread the confidence measures, are none).
        var minimum = Math.Max(Sampling.AutoStart(active.Length), (2 + plan.Enumerated + Sampling.AutoStep - 1) / Sampling.AutoStep * Sampling.AutoStep);
        var (done, confidence, cancelled) = Sampling.ScoreRows(scorer, masks, scores, options.Samples, total,
            minimum, Confidence, AfterBatch, cancellation);
        done = Usable(done, options.Paired);
        if (done < 4) throw new OperationCanceledException(cancellation);
        var stability = Stability(masks, scores, m, targets, done, options.Paired, active, plan);
        var values = Fit([.. SampleRows(done)]);
        return new KernelShapResult(values, Column(scores, targets, 0), Column(scores, targets, 1), done, options.Seed, false, options.Paired, stability, cancelled,
            confidence, Sampling.AutoNote(options.Samples, done, confidence, cancelled));
    }

    /// <summary>
    /// What a run of <paramref name="rows"/> mask rows (all shown and all hidden included) does with the coalition sizes of
    /// <paramref name="players"/> players: it enumerates sizes 1…<see cref="CoalitionPlan.EnumeratedSizes"/> and their
    /// complements' sizes (<see cref="CoalitionPlan.Enumerated"/> coalitions) and samples the sizes between. As the shap
    /// library decides it: from the smallest size up, a size and its complement's are enumerated while their share of the
    /// kernel mass not yet enumerated, times the rows not yet spent, covers every coalition of theirs. The middle size
    /// is never enumerated: reaching it would mean every coalition fits, and then KernelSHAP evaluates them all anyway.
    /// </summary>
    public static CoalitionPlan Plan(int players, int rows)
    {
        double Mass(int s) => (players - 1.0) / (s * (players - s)); // the kernel's mass on coalitions of size s
        var left = rows - 2.0;
        var remaining = Enumerable.Range(1, Math.Max(players - 1, 0)).Sum(Mass);
        int sizes = 0, enumerated = 0;
        for (var s = 1; s < players - s; s++)
        {
            var (mass, count) = (2 * Mass(s), 2 * Binomial(players, s));
            if (left * mass / remaining < count * (1 - 1e-8)) break;
            (left, remaining, sizes, enumerated) = (left - count, remaining - mass, s, enumerated + (int)count);
        }
        return new CoalitionPlan(sizes, enumerated, remaining);
    }

    /// <summary>
    /// Mask rows [count, m]: row 0 all shown, row 1 all hidden, then the coalitions <paramref name="plan"/> enumerates
    /// (each followed by its complement, the pairs in a seeded random order so that a run cut short has a random subset
    /// of them), then coalitions drawn from the Shapley kernel's distribution over the sizes left (each followed by its
    /// complement when <paramref name="paired"/>). Over the <paramref name="active"/> players (null: all m); the others
    /// stay hidden after row 0. Plan null: <see cref="Plan"/> for <paramref name="count"/> rows.
    /// </summary>
    public static byte[] Masks(int m, int count, Random random, bool paired, IReadOnlyList<int>? active = null, CoalitionPlan? plan = null)
    {
        active ??= Enumerable.Range(0, m).ToArray();
        var p = active.Count;
        plan ??= Plan(p, count);
        if (2 + plan.Enumerated > count) throw new ArgumentException($"{count} rows cannot hold the {plan.Enumerated} coalitions the plan enumerates.", nameof(plan));
        var masks = new byte[count * m];
        Array.Fill(masks, (byte)1, 0, m);
        var row = 2;
        foreach (var coalition in Enumerable.Range(1, plan.EnumeratedSizes).SelectMany(s => Subsets(p, s)).OrderBy(_ => random.Next()))
        {
            foreach (var j in active) masks[(row + 1) * m + j] = 1;
            foreach (var i in coalition) (masks[row * m + active[i]], masks[(row + 1) * m + active[i]]) = (1, 0);
            row += 2;
        }
        // Cumulative probability of the sampled sizes low…high, ∝ (p−1)/(s(p−s)).
        int low = plan.EnumeratedSizes + 1, high = p - 1 - plan.EnumeratedSizes;
        var cumulative = new double[Math.Max(high - low + 1, 1)];
        for (var s = low; s <= high; s++) cumulative[s - low] = (s > low ? cumulative[s - low - 1] : 0) + 1.0 / (s * (p - s));
        var order = Enumerable.Range(0, p).ToArray();
        for (; row < count; row++)
        {
            var o = row * m;
            if (paired && row % 2 == 1)
            {
                foreach (var j in active) masks[o + j] = (byte)(1 - masks[o - m + j]);
                continue;
            }
            var u = random.NextDouble() * cumulative[^1];
            var index = Array.FindIndex(cumulative, c => u < c);
            var size = index < 0 ? high : low + index;
            for (var i = 0; i < size; i++)
            {
                var pick = random.Next(i, p);
                (order[i], order[pick]) = (order[pick], order[i]);
                masks[o + active[order[i]]] = 1;
            }
        }
        return masks;
    }

    /// <summary>Every subset of size <paramref name="size"/> of 0…<paramref name="n"/>−1, in lexicographic order.</summary>
    private static IEnumerable<int[]> Subsets(int n, int size)
    {
        var subset = Enumerable.Range(0, size).ToArray();
        while (true)
        {
            yield return (int[])subset.Clone();
            var i = size - 1;
            while (i >= 0 && subset[i] == n - size + i) i--;
            if (i < 0) yield break;
            subset[i]++;
            for (var j = i + 1; j < size; j++) subset[j] = subset[j - 1] + 1;
        }
    }

    private static double Binomial(int n, int k)
    {
        double binomial = 1;
        for (var i = 0; i < k; i++) binomial = binomial * (n - i) / (i + 1);
        return binomial;
    }

    /// <summary>
    /// The regression weights of <paramref name="rows"/> (indexed by row − 2, as <see cref="Solve"/> reads them): an
    /// enumerated coalition its kernel weight, and the sampled ones among the rows equal shares of the mass the plan
    /// leaves to sampling (each draw stands for that mass ÷ the draws).
    /// </summary>
    private static double[] Weights(byte[] masks, int m, IReadOnlyList<int> active, CoalitionPlan plan, int[] rows)
    {
        var firstSampled = 2 + plan.Enumerated;
        var sampled = rows.Count(r => r >= firstSampled);
        var weights = new double[rows.Length == 0 ? 0 : rows.Max() - 1];
        foreach (var row in rows)
            weights[row - 2] = row >= firstSampled ? plan.SampledMass / sampled : KernelWeight(active.Count, active.Count(j => masks[row * m + j] != 0));
        return weights;
    }

    /// <summary>
    /// The constrained least squares per target over <paramref name="rows"/>: with A = Σ w z zᵀ and b = Σ w z (f(z) − f(∅))
    /// (w from <see cref="Weights"/>: the kernel weight for enumerated coalitions, equal shares for drawn ones; null: all 1),
    /// φ = A⁻¹(b − λ1) with λ chosen so that Σφ = f(x) − f(∅). Over the <paramref name="active"/> players (null: all);
    /// the others get 0.
    /// </summary>
    public static double[][] Solve(byte[] masks, double[] scores, int m, int targets, IEnumerable<int> rows, double[]? weights = null, IReadOnlyList<int>? active = null)
    {
        active ??= Enumerable.Range(0, m).ToArray();
        var (a, b) = Normal(masks, scores, m, targets, rows, weights, active);
        var solutions = Sampling.SolveSymmetric(a, [.. b, Enumerable.Repeat(1.0, active.Count).ToArray()]);
        var ones = solutions[^1];
        return Enumerable.Range(0, targets).Select(t =>
        {
            var delta = scores[t] - scores[targets + t];
            var lambda = (solutions[t].Sum() - delta) / ones.Sum();
            var phi = new double[m];
            for (var j = 0; j < active.Count; j++) phi[active[j]] = solutions[t][j] - lambda * ones[j];
            return phi;
        }).ToArray();
    }

    /// <summary>A = Σ w z zᵀ and, per target, b = Σ w z (f(z) − f(∅)), over the active players.</summary>
    private static (double[,] A, double[][] B) Normal(byte[] masks, double[] scores, int m, int targets, IEnumerable<int> rows, double[]? weights, IReadOnlyList<int> active)
    {
        var p = active.Count;
        var a = new double[p, p];
        var b = Enumerable.Range(0, targets).Select(_ => new double[p]).ToArray();
        var shown = new List<int>(p);
        foreach (var row in rows)
        {
            var w = weights?[row - 2] ?? 1; // weights of the sampled rows, from row 2 on
            shown.Clear();
            for (var j = 0; j < p; j++) if (masks[row * m + active[j]] != 0) shown.Add(j);
            foreach (var j in shown)
            {
                foreach (var k in shown) a[j, k] += w;
                for (var t = 0; t < targets; t++) b[t][j] += w * (scores[row * targets + t] - scores[targets + t]);
            }
        }
        return (a, b);
    }

    /// <summary>
    /// The sandwich covariance of the first target's constrained values <paramref name="phi"/>, [m, m] (zero for
    /// players left out): with u = A⁻¹b, φ = C·u + const for C = I − A⁻¹1·1ᵀ/(1ᵀA⁻¹1), so Cov φ = C·Cov u·Cᵀ, and
    /// Cov u is the sandwich of the terms w z (f(z) − f(∅) − φ·z) of the sampled rows (from <paramref name="firstSampled"/>
    /// on; the enumerated ones are no random draw), a coalition and its complement one cluster.
    /// </summary>
    private static double[,] Covariance(byte[] masks, double[] scores, int m, int targets, int[] rows, double[] weights, int firstSampled, bool paired, int[] active, double[] phi)
    {
        var p = active.Length;
        var (a, _) = Normal(masks, scores, m, targets, rows, weights, active);
        var inverse = Sampling.Inverse(a);
        var clusters = new List<double[]>();
        foreach (var row in rows.Where(r => r >= firstSampled))
        {
            if (!(paired && row % 2 == 1 && clusters.Count > 0)) clusters.Add(new double[p]);
            var residual = weights[row - 2] * (scores[row * targets] - scores[targets]);
            for (var j = 0; j < m; j++) if (masks[row * m + j] != 0) residual -= weights[row - 2] * phi[j];
            var term = clusters[^1];
            for (var j = 0; j < p; j++) if (masks[row * m + active[j]] != 0) term[j] += residual;
        }
        var cu = Sampling.Sandwich(inverse, clusters);
        var ainvOnes = new double[p];
        for (var i = 0; i < p; i++)
            for (var j = 0; j < p; j++) ainvOnes[i] += inverse[i, j];
        var total = ainvOnes.Sum();
        var c = new double[p, p];
        for (var i = 0; i < p; i++)
            for (var j = 0; j < p; j++) c[i, j] = (i == j ? 1 : 0) - ainvOnes[i] / total;
        var cov = Sampling.Multiply(Sampling.Multiply(c, cu), Transpose(c));
        var full = new double[m, m];
        for (var i = 0; i < p; i++)
            for (var j = 0; j < p; j++) full[active[i], active[j]] = cov[i, j];
        return full;
    }

    private static double[,] Transpose(double[,] a)
    {
        var t = new double[a.GetLength(1), a.GetLength(0)];
        for (var i = 0; i < a.GetLength(0); i++)
            for (var j = 0; j < a.GetLength(1); j++) t[j, i] = a[i, j];
        return t;
    }

    /// <summary>
    /// Exact Shapley values: every coalition evaluated, then φᵢ = Σ |S|!(M−|S|−1)!/M! (v(S∪i) − v(S)). The coalitions
    /// are scored in a seeded random order (all shown and all hidden first), so that the partial results, and the
    /// result of a cancelled run, are the Shapley-kernel-weighted regression on a random subset of them.
    /// </summary>
    private static KernelShapResult Exactly(PerturbationScorer scorer, KernelShapOptions options, Action<AttributionPartial>? partial,
        CancellationToken cancellation)
    {
        int m = scorer.Segments, targets = scorer.Targets;
        var active = scorer.Active;
        int p = active.Length, count = 1 << p;
        var random = new Random(options.Seed);
        var order = new[] { count - 1, 0 }.Concat(Enumerable.Range(1, count - 2).OrderBy(_ => random.Next())).ToArray();
        var masks = new byte[count * m];
        for (var r = 0; r < count; r++)
            for (var j = 0; j < p; j++) masks[r * m + active[j]] = (byte)(order[r] >> j & 1);
        var scores = new double[count * targets];
        var weights = SampleRows(count).Select(r => KernelWeight(p, System.Numerics.BitOperations.PopCount((uint)order[r]))).ToArray();
        double[][] Estimate(int scored) => Solve(masks, scores, m, targets, SampleRows(scored), weights, active);
        var timer = new PartialTimer(options.PartialInterval ?? TimeSpan.FromSeconds(1));
        var done = scorer.Score(masks, scores, 0, count, cancellation, scored =>
        {
            if (partial is not null && scored >= 4 && timer.Due()) partial(new AttributionPartial(scored, count, Estimate(scored)));
        });
        if (done < count)
        {
            if (done < 4) throw new OperationCanceledException(cancellation);
            var halves = Enumerable.Range(0, 2).Select(h => Solve(masks, scores, m, targets, SampleRows(done).Where(r => r % 2 == h), weights, active)[0]).ToArray();
            return new KernelShapResult(Estimate(done), Column(scores, targets, 0), Column(scores, targets, 1), done, options.Seed, false, options.Paired,
                Sampling.Agreement(halves[0], halves[1]), true);
        }
        var row = new int[count];
        for (var r = 0; r < count; r++) row[order[r]] = r;
        var values = Enumerable.Range(0, targets).Select(t =>
        {
            var reduced = Shapley(p, c => scores[row[c] * targets + t]);
            var phi = new double[m];
            for (var j = 0; j < p; j++) phi[active[j]] = reduced[j];
            return phi;
        }).ToArray();
        var note = options.Samples.Auto ? $"auto evaluated all {count} coalitions: the values are exact." : null;
        return new KernelShapResult(values, Column(scores, targets, 0), Column(scores, targets, 1), count, options.Seed, true, options.Paired, 1, false,
            options.Samples.Auto ? 1 : double.NaN, note);
    }

    /// <summary>The Shapley kernel's weight of a coalition of <paramref name="size"/> of <paramref name="m"/>: (M−1)/(C(M,s)·s·(M−s)).</summary>
    public static double KernelWeight(int m, int size) => (m - 1) / (Binomial(m, size) * size * (m - size));

    /// <summary>Shapley's formula for a game over <paramref name="m"/> players given as v(coalition bits).</summary>
    public static double[] Shapley(int m, Func<int, double> value)
    {
        // weight(s) = s!(m−s−1)!/m! = 1 / (m · C(m−1, s))
        var weight = new double[m];
        double binomial = 1;
        for (var s = 0; s < m; s++)
        {
            weight[s] = 1 / (m * binomial);
            binomial = binomial * (m - 1 - s) / (s + 1);
        }
        var phi = new double[m];
        for (var c = 0; c < 1 << m; c++)
        {
            var size = System.Numerics.BitOperations.PopCount((uint)c);
            for (var i = 0; i < m; i++)
                if ((c >> i & 1) == 0) phi[i] += weight[size] * (value(c | 1 << i) - value(c));
        }
        return phi;
    }

    /// <summary>
    /// Agreement of the top segments (first target) between the even and the odd draws (pairs stay together), the
    /// enumerated coalitions in both (they are no draw; while a run is still enumerating, they are split too).
    /// </summary>
    private static double Stability(byte[] masks, double[] scores, int m, int targets, int count, bool paired, IReadOnlyList<int> active, CoalitionPlan plan)
    {
        var unit = paired ? 2 : 1;
        var rows = SampleRows(Usable(count, paired)).ToArray();
        var firstSampled = count > 2 + plan.Enumerated ? 2 + plan.Enumerated : 2;
        double[] Half(int h)
        {
            var half = rows.Where(r => r < firstSampled || (r - firstSampled) / unit % 2 == h).ToArray();
            return Solve(masks, scores, m, targets, half, Weights(masks, m, active, plan, half), active)[0];
        }
        return Sampling.Agreement(Half(0), Half(1));
    }

    private static IEnumerable<int> SampleRows(int count) => Enumerable.Range(2, Math.Max(0, count - 2));

    /// <summary>Rows usable for a fit: whole pairs only.</summary>
    private static int Usable(int scored, bool paired) => paired && scored > 2 ? 2 + (scored - 2) / 2 * 2 : scored;

    private static double[] Column(double[] scores, int targets, int row) => scores[(row * targets)..((row + 1) * targets)];
}
