using System.Globalization;
using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// What an explanation explains: the logit of a class, or the mean activation of one channel of a layer
/// (for models without a classifier head). No target means the top class.
/// </summary>
public abstract record Target
{
    public sealed record Class(int Index) : Target
    {
        public override string ToString() => Index.ToString(CultureInfo.InvariantCulture);
    }

    public sealed record Channel(string Layer, int Index) : Target
    {
        public override string ToString() => $"{Layer}:{Index}";
    }

    /// <summary>"7" is class 7; "features.10:5" is channel 5 of layer features.10.</summary>
    public static Target? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var colon = text.LastIndexOf(':');
        if (colon < 0)
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var k) ? new Class(k)
                : throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Cannot read target '{text}': use a class index like 3, or LAYER:CHANNEL like features.10:5.");
        return int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var c)
            ? new Channel(text[..colon], c)
            : throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Cannot read target '{text}': the channel after ':' must be a whole number.");
    }

    /// <summary>Checks the target against the model and returns it (or the top class of <paramref name="logits"/>).</summary>
    public static Target Resolve(Target? target, CnnModel model, float[] logits)
    {
        switch (target)
        {
            case null:
                return Top(model, logits, 1)[0];
            case Class c when c.Index < 0 || c.Index >= logits.Length:
                throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Class {c.Index} does not exist: model '{model.Id}' has classes 0–{logits.Length - 1}.");
            case Channel ch:
                var layer = model.GetLayer(ch.Layer);
                if (ch.Index < 0 || ch.Index >= layer.OutputShape[0])
                    throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Layer '{layer.Name}' has channels 0–{layer.OutputShape[0] - 1}; {ch.Index} is out of range.");
                return new Channel(layer.Name, ch.Index);
            default:
                return target;
        }
    }

    /// <summary>
    /// The <paramref name="count"/> highest-scoring targets, best first (ties: lower index): classes by logit, or for a
    /// model without classes (a feature extractor) the channels of its final output (the last layer) by mean
    /// activation; <paramref name="logits"/> is that output, flattened.
    /// </summary>
    public static IReadOnlyList<Target> Top(CnnModel model, float[] logits, int count)
    {
        if (model.Classes.Count > 0 || model.Layers.Count == 0)
            return Ranked(logits).Take(count).Select(i => (Target)new Class(i)).ToList();
        var last = model.Layers[^1];
        var channels = Math.Max(1, last.OutputShape.Length > 0 ? last.OutputShape[0] : logits.Length);
        var per = Math.Max(1, logits.Length / channels);
        var means = Enumerable.Range(0, channels).Select(c => logits.Skip(c * per).Take(per).DefaultIfEmpty(float.NegativeInfinity).Average()).ToArray();
        return Ranked(means).Take(count).Select(c => (Target)new Channel(last.Name, c)).ToList();
    }

    private static IEnumerable<int> Ranked(float[] scores) => Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i);

    /// <summary>The layers a forward pass must capture to score this target.</summary>
    public IReadOnlySet<string> Captures => this is Channel ch ? new HashSet<string> { ch.Layer } : new HashSet<string>();

    /// <summary>The score of each batch item, [N]: a class logit, or a channel's mean activation.</summary>
    public Tensor Score(Tensor logits, IReadOnlyDictionary<string, Tensor> captured) => this switch
    {
        Class c => logits[.., c.Index],
        Channel ch => captured[ch.Layer][.., ch.Index].reshape(logits.shape[0], -1).mean([1]),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>A label for people: the class name, or "channel 5 of features.10".</summary>
    public string Describe(CnnModel model) => this switch
    {
        Class c => c.Index < model.Classes.Count ? model.Classes[c.Index] : $"class {c.Index}",
        Channel ch => $"channel {ch.Index} of {ch.Layer}",
        _ => ToString()!,
    };
}
