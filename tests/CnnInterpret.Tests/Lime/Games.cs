using CnnInterpret.Core.Explainers;

namespace CnnInterpret.Tests.Lime;

/// <summary>Scorers over pure functions of the mask, so the expected numbers are known exactly.</summary>
public static class Games
{
    /// <summary>A scorer whose score of mask z is <paramref name="value"/>(z), one target.</summary>
    public static PerturbationScorer Of(int segments, Func<byte[], double> value, int batchSize = 64, Action<int>? onBatch = null)
    {
        var batches = 0;
        return new PerturbationScorer(segments, 1, batchSize, (masks, start, count) =>
        {
            onBatch?.Invoke(++batches);
            return Enumerable.Range(start, count).Select(r => value(masks[(r * segments)..((r + 1) * segments)])).ToArray();
        });
    }

    /// <summary>Two targets at once: <paramref name="first"/>(z) and <paramref name="second"/>(z).</summary>
    public static PerturbationScorer Of(int segments, Func<byte[], double> first, Func<byte[], double> second, int batchSize = 64) =>
        new(segments, 2, batchSize, (masks, start, count) => Enumerable.Range(start, count)
            .SelectMany(r => new[] { first(masks[(r * segments)..((r + 1) * segments)]), second(masks[(r * segments)..((r + 1) * segments)]) }).ToArray());

    /// <summary>b + Σ cᵢ zᵢ.</summary>
    public static Func<byte[], double> Linear(double intercept, double[] coefficients) =>
        z => intercept + z.Select((v, i) => v * coefficients[i]).Sum();

    /// <summary>A game with interactions: v(z) = Σ cᵢ zᵢ + 0.7·z0·z1 − 0.4·z2·z3·z4 + 0.3·(z5 + z6)².</summary>
    public static double Nonlinear(byte[] z)
    {
        double v = 0;
        for (var i = 0; i < z.Length; i++) v += z[i] * (0.1 * i - 0.3);
        return v + 0.7 * z[0] * z[1] - 0.4 * z[2] * z[3] * z[4] + 0.3 * Math.Pow(z[5] + z[6], 2);
    }
}
