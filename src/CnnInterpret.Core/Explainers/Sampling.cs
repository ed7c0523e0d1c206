using System.Globalization;

namespace CnnInterpret.Core.Explainers;

/// <summary>How many samples a sampling explainer draws: a fixed count, or "auto" (stop when the top segments are stable).</summary>
public sealed record SampleCount(int Count, bool Auto)
{
    public const int Min = 10, Max = 100_000;

    /// <summary>The most samples "auto" draws before giving up on a stable ranking.</summary>
    public const int AutoMax = 5000;

    /// <summary>"auto", a whole number, or null for <paramref name="defaultCount"/>.</summary>
    public static SampleCount Parse(string? text, int defaultCount)
    {
        if (string.IsNullOrWhiteSpace(text)) return new(defaultCount, false);
        if (text.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)) return new(AutoMax, true);
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"samples must be a whole number between {Min} and {Max}, or \"auto\"; got '{text}'.");
        return Of(n);
    }

    public static SampleCount Of(int count) => count is >= Min and <= Max
        ? new(count, false)
        : throw new CnnInterpretException(ErrorKind.InvalidArgument,
            $"samples must be between {Min} and {Max} (or \"auto\"); got {count}. More samples give steadier results; each costs one forward pass.");

    public override string ToString() => Auto ? "auto" : Count.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Shared pieces of the sampling explainers: when "auto" stops, what "converged" means, the ranking-stability
/// score and a small linear solver.
/// </summary>
public static class Sampling
{
    /// <summary>Top segments compared between halves: the original showed the top 8.</summary>
    public const int TopCount = 8;

    /// <summary>"Converged" (issue 14): Spearman's ρ with the limit at least this, and the same top 8 but one.</summary>
    public const double ConvergedSpearman = 0.9;

    /// <summary>"auto" checks its confidence every this many samples…</summary>
    public const int AutoStep = 50;

    /// <summary>…from this many samples on (and never before twice the number of segments it fits)…</summary>
    public const int AutoMinimum = 2 * AutoStep;

    /// <summary>
    /// …and stops at the first check where its estimated chance that the answer has converged (<see cref="Confidence"/>)
    /// is at least this.
    /// </summary>
    public const double TargetConfidence = 0.9;

    /// <summary>GradientSHAP's "auto": the halves agree on at least this share of the top segments (see <see cref="Agreement"/>).</summary>
    public const double StableAgreement = 0.8;

    /// <summary>What <see cref="ScoreRows"/> scored: rows 0…Done−1; Confidence is NaN unless "auto" measured it.</summary>
    public readonly record struct Scored(int Done, double Confidence, bool Cancelled);

    /// <summary>
    /// Scores the mask rows: all <paramref name="total"/> of them, or for "auto" <see cref="AutoStep"/> at a time until
    /// <paramref name="confidence"/> of the rows scored so far reaches <see cref="TargetConfidence"/> (checked from
    /// <paramref name="minimum"/> rows on). "auto" never scores more than <paramref name="total"/> rows (its cap).
    /// The checks fall every AutoStep rows, never at batch boundaries, so the stopping point does not depend on the
    /// batch size.
    /// </summary>
    public static Scored ScoreRows(PerturbationScorer scorer, byte[] masks, double[] scores, SampleCount samples, int total, int minimum,
        Func<int, double> confidence, Action<int>? afterBatch, CancellationToken cancellation)
    {
        if (!samples.Auto)
        {
            var scored = scorer.Score(masks, scores, 0, total, cancellation, afterBatch);
            return new(scored, double.NaN, scored < total);
        }
        int done = 0;
        var reached = double.NaN;
        while (done < total)
        {
            var step = Math.Min(AutoStep - done % AutoStep, total - done);
            var scored = scorer.Score(masks, scores, done, step, cancellation, afterBatch);
            done += scored;
            if (scored < step) return new(done, reached, true);
            if (done < minimum && done < total) continue;
            reached = confidence(done);
            if (reached >= TargetConfidence) break;
        }
        return new(done, reached, false);
    }

    /// <summary>The fewest rows "auto" may stop at when fitting <paramref name="unknowns"/> numbers: a whole number of steps.</summary>
    public static int AutoStart(int unknowns) => Math.Max(AutoMinimum, (2 * unknowns + AutoStep - 1) / AutoStep * AutoStep);

    /// <summary>
    /// What a result says about "auto": null for a fixed count; else how sure it is, and when it stopped at its cap
    /// without reaching <see cref="TargetConfidence"/>, that it did not converge and what to try.
    /// </summary>
    public static string? AutoNote(SampleCount samples, int done, double confidence, bool cancelled)
    {
        if (!samples.Auto || cancelled || double.IsNaN(confidence)) return null;
        var sure = $"estimated chance that the ranking matches the converged one (Spearman ≥ {ConvergedSpearman}, top {TopCount} the same but one): {confidence:P0}";
        return confidence >= TargetConfidence
            ? $"auto stopped at {done} samples; {sure}."
            : $"auto did not converge within its cap of {done} samples; {sure}, below the {TargetConfidence:P0} it stops at. " +
              "This is its best answer. Try fewer, larger segments (--segments), a smoother score (--score logit), or a fixed --samples count above the cap.";
    }

    /// <summary>Spearman's rank correlation (ties get their average rank); 1 when either side is constant and both are equal.</summary>
    public static double Spearman(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var (ra, rb) = (Ranks(a), Ranks(b));
        double mean = (a.Count + 1) / 2.0, sab = 0, saa = 0, sbb = 0;
        for (var i = 0; i < a.Count; i++)
        {
            double x = ra[i] - mean, y = rb[i] - mean;
            sab += x * y;
            saa += x * x;
            sbb += y * y;
        }
        return saa > 0 && sbb > 0 ? sab / Math.Sqrt(saa * sbb) : ra.SequenceEqual(rb) ? 1 : 0;
    }

    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            for (var i = start; i <= end; i++) ranks[order[i]] = (start + end) / 2.0 + 1;
            start = end + 1;
        }
        return ranks;
    }

    /// <summary>How many of the top <see cref="TopCount"/> segments (by |value|) both put in their top.</summary>
    public static int TopOverlap(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var k = Math.Min(TopCount, a.Count);
        return Top(a, k).Intersect(Top(b, k)).Count();
    }

    /// <summary>Issue 14's "converged": Spearman ≥ 0.9 with the reference and the same top 8 but at most one.</summary>
    public static bool Converged(IReadOnlyList<double> estimate, IReadOnlyList<double> reference) =>
        Spearman(estimate, reference) >= ConvergedSpearman && TopOverlap(estimate, reference) >= Math.Min(TopCount, estimate.Count) - 1;

    /// <summary>Draws of the limit <see cref="Confidence"/> takes: its figure moves by at most about ±3 % between seeds.</summary>
    public const int ConfidenceDraws = 256;

    /// <summary>
    /// The chance that <paramref name="estimate"/> has converged (<see cref="Converged"/>) to the answer infinitely many
    /// samples would give: the limit is drawn <see cref="ConfidenceDraws"/> times from N(estimate, covariance), the
    /// estimate's normal approximation, and the share of draws it has converged to is returned. Segments with zero
    /// variance (never hidden in effect) stay where they are. Seeded: the same inputs give the same figure.
    /// </summary>
    public static double Confidence(double[] estimate, double[,] covariance, int seed)
    {
        // NaN is no zero variance: an infinite sandwich (too few clusters for the unknowns) turns NaN through ∞ − ∞.
        var free = Enumerable.Range(0, estimate.Length).Where(j => !(covariance[j, j] <= 0)).ToArray();
        if (free.Length == 0) return 1;
        if (free.Any(j => !double.IsFinite(covariance[j, j]))) return 0;
        var sub = new double[free.Length, free.Length];
        for (var i = 0; i < free.Length; i++)
            for (var j = 0; j < free.Length; j++) sub[i, j] = covariance[free[i], free[j]];
        var l = FactorPsd(sub);
        var random = new Random(seed);
        var normal = new double[free.Length];
        var limit = (double[])estimate.Clone();
        var agreeing = 0;
        for (var draw = 0; draw < ConfidenceDraws; draw++)
        {
            for (var i = 0; i < free.Length; i++)
                normal[i] = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            for (var i = 0; i < free.Length; i++)
            {
                var e = 0.0;
                for (var k = 0; k <= i; k++) e += l[i, k] * normal[k];
                limit[free[i]] = estimate[free[i]] + e;
            }
            if (Converged(estimate, limit)) agreeing++;
        }
        return agreeing / (double)ConfidenceDraws;
    }

    /// <summary>
    /// The sandwich (cluster-robust) covariance of a least-squares estimate θ = A⁻¹ Σ gᵢ: A⁻¹ (Σ_c g_c g_cᵀ) A⁻¹, with
    /// g_c the sum of the estimating terms of cluster c (a sample and its complement are one cluster) and the usual
    /// small-sample factor c/(c − p). Infinite when there are no more clusters than unknowns.
    /// </summary>
    public static double[,] Sandwich(double[,] aInverse, IReadOnlyList<double[]> clusterTerms)
    {
        var p = aInverse.GetLength(0);
        var meat = new double[p, p];
        foreach (var g in clusterTerms)
            for (var i = 0; i < p; i++)
            {
                if (g[i] == 0) continue;
                for (var j = 0; j < p; j++) meat[i, j] += g[i] * g[j];
            }
        var clusters = clusterTerms.Count;
        var factor = clusters > p + 1 ? clusters / (double)(clusters - p - 1) : double.PositiveInfinity;
        var am = Multiply(aInverse, meat);
        var covariance = Multiply(am, aInverse);
        for (var i = 0; i < p; i++)
            for (var j = 0; j < p; j++) covariance[i, j] *= factor;
        return covariance;
    }

    /// <summary>A⁻¹ of a symmetric positive (semi)definite A (see <see cref="SolveSymmetric"/>).</summary>
    public static double[,] Inverse(double[,] a)
    {
        var n = a.GetLength(0);
        var columns = SolveSymmetric(a, Enumerable.Range(0, n).Select(j => Enumerable.Range(0, n).Select(i => i == j ? 1.0 : 0).ToArray()).ToArray());
        var inverse = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) inverse[i, j] = columns[j][i];
        return inverse;
    }

    public static double[,] Multiply(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), m = a.GetLength(1), q = b.GetLength(1);
        var c = new double[n, q];
        for (var i = 0; i < n; i++)
            for (var k = 0; k < m; k++)
            {
                var aik = a[i, k];
                if (aik == 0) continue;
                for (var j = 0; j < q; j++) c[i, j] += aik * b[k, j];
            }
        return c;
    }

    /// <summary>L with L·Lᵀ ≈ A for a positive semidefinite A (jitter grown until it factors).</summary>
    private static double[,] FactorPsd(double[,] a)
    {
        var n = a.GetLength(0);
        double trace = 0;
        for (var i = 0; i < n; i++) trace += a[i, i];
        var scale = Math.Max(trace / n, 1e-300);
        double jitter = 0;
        for (var attempt = 0; attempt < 30; attempt++, jitter = jitter == 0 ? 1e-12 * scale : jitter * 10)
            if (Cholesky(a, jitter) is { } l) return l;
        var diagonal = new double[n, n]; // not a covariance (NaN off the diagonal): the variances alone
        for (var i = 0; i < n; i++) diagonal[i, i] = Math.Sqrt(Math.Max(a[i, i], 0));
        return diagonal;
    }

    /// <summary>The <paramref name="k"/> indices of largest |value| (ties: lower index first).</summary>
    public static int[] Top(IReadOnlyList<double> values, int k) =>
        Enumerable.Range(0, values.Count).OrderByDescending(i => Math.Abs(values[i])).ThenBy(i => i).Take(k).ToArray();

    /// <summary>
    /// Rank agreement of two independent estimates: the share of the top-k segments (by |value|) that both put in
    /// their top k, with k = min(8, S/2, the number of segments that matter: mean |value| at least 5 % of the
    /// largest). Segments with no effect (say black background under a black fill) rank by noise alone; counting
    /// them would call a settled explanation unstable. 1 means the same top set.
    /// </summary>
    public static double Agreement(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var magnitude = a.Zip(b, (x, y) => (Math.Abs(x) + Math.Abs(y)) / 2).ToArray();
        var largest = magnitude.Max();
        var mattering = magnitude.Count(v => v >= 0.05 * largest);
        var k = Math.Max(1, Math.Min(Math.Min(TopCount, a.Count / 2), mattering));
        return Top(a, k).Intersect(Top(b, k)).Count() / (double)k;
    }

    /// <summary>
    /// Solves A·x = b for a symmetric positive (semi)definite A by Cholesky, for several right-hand sides. When A
    /// is singular (fewer samples than segments), a jitter of 1e-10·trace/n, grown tenfold until it factors,
    /// picks the minimum-norm-like solution.
    /// </summary>
    public static double[][] SolveSymmetric(double[,] a, IReadOnlyList<double[]> rhs)
    {
        var n = a.GetLength(0);
        double trace = 0;
        for (var i = 0; i < n; i++) trace += a[i, i];
        var jitter = 0.0;
        var scale = Math.Max(trace / n, 1e-300);
        for (var attempt = 0; attempt < 20; attempt++, jitter = jitter == 0 ? 1e-10 * scale : jitter * 10)
        {
            var l = Cholesky(a, jitter);
            if (l is null) continue;
            return rhs.Select(b => Substitute(l, b)).ToArray();
        }
        throw new CnnInterpretException(ErrorKind.Internal, "The surrogate's equations could not be solved (the matrix is not positive definite).");
    }

    private static double[,]? Cholesky(double[,] a, double jitter)
    {
        var n = a.GetLength(0);
        var l = new double[n, n];
        for (var j = 0; j < n; j++)
        {
            var d = a[j, j] + jitter;
            for (var k = 0; k < j; k++) d -= l[j, k] * l[j, k];
            if (!(d > 0)) return null;
            l[j, j] = Math.Sqrt(d);
            for (var i = j + 1; i < n; i++)
            {
                var s = a[i, j];
                for (var k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                l[i, j] = s / l[j, j];
            }
        }
        return l;
    }

    private static double[] Substitute(double[,] l, double[] b)
    {
        var n = b.Length;
        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            var s = b[i];
            for (var k = 0; k < i; k++) s -= l[i, k] * y[k];
            y[i] = s / l[i, i];
        }
        var x = new double[n];
        for (var i = n - 1; i >= 0; i--)
        {
            var s = y[i];
            for (var k = i + 1; k < n; k++) s -= l[k, i] * x[k];
            x[i] = s / l[i, i];
        }
        return x;
    }
}
