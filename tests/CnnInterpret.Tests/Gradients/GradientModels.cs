using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Models;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Tests.Gradients;

/// <summary>Small networks with known gradients, and a way to run any registry method on raw normalised pixels.</summary>
internal static class GradientModels
{
    /// <summary>4×4 gray pixels taken as they are (mean 0, std 1): black is 0, so the black baseline is the zero baseline.</summary>
    public static readonly Preprocessing Identity = new("gray", 4, [4, 4], [0f], [1f]);

    public static readonly float[] X = Enumerable.Range(0, 16).Select(k => (k - 6f) / 4).ToArray();

    /// <summary>W[c, k] of the linear model: class 0 rises with k, class 1 alternates in sign.</summary>
    public static float W(int c, int k) => c == 0 ? 0.25f * (k + 1) : (k % 2 == 0 ? 1f : -0.25f);

    /// <summary>f(x) = W x + b: flatten → linear(16 → 2). Every gradient method has an exact answer on it.</summary>
    public static CnnModel Linear()
    {
        var model = new CnnModel("tiny-linear", "Tiny linear", Identity, ["a", "b"],
        [
            ("flatten", "flatten", "Flatten", "head", Flatten()),
            ("classifier.0", "predictions", "Linear", "classifier", nn.Linear(16, 2)),
        ]);
        using var scope = NewDisposeScope();
        model.LoadWeights(new Dictionary<string, Tensor>
        {
            ["classifier.0.weight"] = tensor(Enumerable.Range(0, 32).Select(i => W(i / 16, i % 16)).ToArray(), [2, 16]),
            ["classifier.0.bias"] = tensor(new[] { 0.5f, -0.25f }),
        }, "tiny-linear", "hand-made weights");
        return model;
    }

    /// <summary>A network with no ReLU: flatten → linear → sigmoid → linear.</summary>
    public static CnnModel WithoutRelu() => new("tiny-sigmoid", "Tiny sigmoid", Identity, ["a", "b"],
    [
        ("flatten", "flatten", "Flatten", "head", Flatten()),
        ("classifier.0", "fc1", "Linear", "classifier", nn.Linear(16, 4)),
        ("classifier.1", "fc1_sigmoid", "Sigmoid", "classifier", Sigmoid()),
        ("classifier.2", "predictions", "Linear", "classifier", nn.Linear(4, 2)),
    ]);

    /// <summary>Runs registry method <paramref name="method"/> on <paramref name="input"/> (normalised [C,H,W] of the model's size).</summary>
    public static Attribution Run(CnnModel model, float[] input, string method, Target target, IReadOnlyDictionary<string, string?>? options = null,
        string? layer = null, int? batchSize = null, IProgress<ExplainProgress>? progress = null, CancellationToken cancellation = default)
    {
        var explainer = ExplainerRegistry.Default.Get(method);
        var parsed = ExplainerOptions.Parse(explainer.Info, options ?? new Dictionary<string, string?>());
        var layerInfo = layer is null ? null : model.GetLayer(layer);
        var context = batchSize is { } b
            ? new ExplainContext(model, input, target, layerInfo, parsed, progress, cancellation: cancellation) { BatchSize = b }
            : new ExplainContext(model, input, target, layerInfo, parsed, progress, cancellation: cancellation);
        using var scope = NewDisposeScope();
        return explainer.Explain(context);
    }

    public static Dictionary<string, string?> Options(params (string Name, object Value)[] options) =>
        options.ToDictionary(o => o.Name, o => (string?)Convert.ToString(o.Value, System.Globalization.CultureInfo.InvariantCulture));
}
