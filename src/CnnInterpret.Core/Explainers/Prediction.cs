namespace CnnInterpret.Core.Explainers;

public sealed record ClassScore(int Index, string Label, double Probability, double Logit);

public sealed record Prediction(IReadOnlyList<ClassScore> Top, float[] Logits);

public static class Predictions
{
    /// <summary>Softmax over the logits (max-shifted for stability) and the top <paramref name="k"/> classes.</summary>
    public static Prediction FromLogits(float[] logits, IReadOnlyList<string> classes, int k)
    {
        if (k < 1) throw new CnnInterpretException(ErrorKind.InvalidArgument, $"topK must be at least 1, not {k}.");
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
