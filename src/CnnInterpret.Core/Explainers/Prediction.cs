namespace CnnInterpret.Core.Explainers;

public sealed record ClassScore(int Index, string Label, double Probability, double Logit);

public sealed record Prediction(IReadOnlyList<ClassScore> Top, float[] Logits);

public static class Predictions
{
    /// <summary>
    /// Softmax over the logits (max-shifted for stability) and the top <paramref name="k"/> classes. A model with no
    /// classes (a feature extractor) has no probabilities: its most active output channels are listed instead, each
    /// with its share of the positive activation as "probability" and its mean activation as "logit".
    /// </summary>
    public static Prediction FromLogits(float[] logits, IReadOnlyList<string> classes, int k)
    {
        if (k < 1) throw new CnnInterpretException(ErrorKind.InvalidArgument, $"topK must be at least 1, not {k}.");
        if (classes.Count == 0)
        {
            var positive = logits.Where(v => v > 0).Sum(v => (double)v);
            var channels = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(k)
                .Select(i => new ClassScore(i, $"channel {i}", positive > 0 ? Math.Max(0, logits[i]) / positive : 0, logits[i])).ToList();
            return new Prediction(channels, logits);
        }
        var max = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        var sum = exp.Sum();
        var top = Enumerable.Range(0, logits.Length)
            .OrderByDescending(i => logits[i]).ThenBy(i => i)
            .Take(k)
            .Select(i => new ClassScore(i, i < classes.Count ? classes[i] : $"class {i}", exp[i] / sum, logits[i]))
            .ToList();
        return new Prediction(top, logits);
    }
}
