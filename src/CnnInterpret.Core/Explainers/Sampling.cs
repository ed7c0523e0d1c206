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

/// <summary>Shared pieces of the sampling explainers: the ranking-stability score and a small linear solver.</summary>
public static class Sampling
{
    /// <summary>Top segments compared between halves: the original showed the top 8.</summary>
    public const int TopCount = 8;

    /// <summary>"auto" checks stability every this many samples…</summary>
    public const int AutoStep = 100;

    /// <summary>The fewest samples "auto" can stop at: two stable checks in a row, counted from the second.</summary>
    public const int AutoMinimum = 3 * AutoStep;

    /// <summary>
    /// …and stops once the halves agree on at least this share of the top k segments at two checks in a row: all but
    /// one of them for k = 5…8 (7 of 8 is 0.875, 4 of 5 is 0.8), all of them for k ≤ 4.
    /// </summary>
    public const double StableAgreement = 0.8;

    /// <summary>What <see cref="ScoreRows"/> scored: rows 0…Done−1; Stability is NaN unless "auto" measured it.</summary>
    public readonly record struct Scored(int Done, double Stability, bool Cancelled);

    /// <summary>
    /// Scores the mask rows: all <paramref name="total"/> of them, or for "auto" samples <see cref="AutoStep"/> at a
    /// time until <paramref name="stability"/> of the rows scored so far reaches <see cref="StableAgreement"/> at two
    /// checks in a row. The checks fall every AutoStep rows, never at batch boundaries, so the stopping point does
    /// not depend on the batch size.
    /// </summary>
    public static Scored ScoreRows(PerturbationScorer scorer, byte[] masks, double[] scores, SampleCount samples, int total,
        Func<int, double> stability, Action<int>? afterBatch, CancellationToken cancellation)
    {
        if (!samples.Auto)
        {
            var scored = scorer.Score(masks, scores, 0, total, cancellation, afterBatch);
            return new(scored, double.NaN, scored < total);
        }
        int done = 0, stableChecks = 0;
        var agreement = double.NaN;
        while (done < total && stableChecks < 2)
        {
            var step = Math.Min(AutoStep, total - done);
            var scored = scorer.Score(masks, scores, done, step, cancellation, afterBatch);
            done += scored;
            if (scored < step) return new(done, agreement, true);
            agreement = stability(done);
            stableChecks = done >= 2 * AutoStep && agreement >= StableAgreement ? stableChecks + 1 : 0;
        }
        return new(done, agreement, false);
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
