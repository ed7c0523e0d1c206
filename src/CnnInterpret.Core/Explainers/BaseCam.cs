using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>What a class-activation map explains and what it found.</summary>
/// <param name="Method">"grad-cam" or "grad-cam++".</param>
/// <param name="Score">The target's score on the image: the class logit (pre-softmax) or the channel's mean activation.</param>
/// <param name="Heatmap">The map at the model's input resolution, [H,W] row-major, min-max normalised to [0,1].</param>
/// <param name="LowRes">The map at the layer's resolution, [h,w], after the ReLU and before normalisation.</param>
/// <param name="Weights">The weight α_k of each of the layer's channels, [K].</param>
/// <param name="OverlayPng">The heatmap blended over the picture the model saw.</param>
/// <param name="HeatmapPng">The plain heatmap.</param>
public sealed record GradCamResult(
    string Method,
    LayerInfo Layer,
    Target Target,
    string TargetLabel,
    float Score,
    float[] Heatmap,
    int[] HeatmapShape,
    float[] LowRes,
    int[] LowResShape,
    float[] Weights,
    byte[] OverlayPng,
    byte[] HeatmapPng)
{
    /// <summary>
    /// The map is zero everywhere: the weighted sum of the channels is negative at every position, so the ReLU left
    /// nothing (common at a conv's raw output, whose values are negative where the class matters). As in
    /// pytorch-grad-cam, the map is still returned; the caller should say so rather than show a blank picture.
    /// </summary>
    public bool Empty => LowRes.All(v => v <= 0);

    /// <summary>What to try when the map is <see cref="Empty"/>; null otherwise.</summary>
    public string? Hint => Empty
        ? $"The map is zero everywhere at {Layer.DisplayName}: the channels' weighted sum is negative at every position. Try the layer's ReLU, a later layer{(Method == "grad-cam" ? ", or Grad-CAM++" : "")}."
        : null;
}

/// <summary>
/// The steps every class activation map shares, as in pytorch-grad-cam's <c>base_cam.py</c>: one forward capturing a
/// spatial layer's activations A [1,K,h,w] and one backward giving the target score's gradients with respect to them;
/// then map = ReLU(Σ_k α_k A_k), min-max normalised and upsampled to the input. A subclass says how the channel
/// weights α are computed (<see cref="Weights"/>), or, when the map is not a weighted sum of channels, how the map is
/// (<see cref="Combine"/>).
/// </summary>
public abstract class BaseCam : IExplainer
{
    public const string GradCamMethod = "grad-cam", GradCamPlusPlusMethod = "grad-cam++";

    /// <summary>The CAMs of the registry that need nothing but activations and gradients (what a layer sweep can run).</summary>
    public static IReadOnlyList<string> Methods => ExplainerRegistry.Default.All.OfType<BaseCam>().Where(c => !c.NeedsModel).Select(c => c.Method).ToList();

    public abstract ExplainerInfo Info { get; }

    public string Method => Info.Name;

    /// <summary>False for CAMs that need only the activations (Eigen-CAM): no backward is run.</summary>
    protected virtual bool UsesGradients => true;

    /// <summary>True for CAMs that run the model again (Score-CAM): they need the <see cref="ExplainContext"/>.</summary>
    protected virtual bool NeedsModel => false;

    /// <summary>The common info of a CAM: a layer method, unsigned, with no options unless a subclass adds some.</summary>
    protected static ExplainerInfo CamInfo(string name, string displayName, string paper, bool sampling = false, params ExplainerOption[] options) =>
        new(name, displayName, "cam", MapKind.Layer, Signed: false, Sampling: sampling, paper, options);

    /// <summary>A CAM by name (any registered CAM that needs only activations and gradients); none is Grad-CAM.</summary>
    public static BaseCam Create(string? method) =>
        ExplainerRegistry.Default.Find(method ?? GradCamMethod) is BaseCam { NeedsModel: false } cam ? cam
        : throw new CnnInterpretException(ErrorKind.InvalidArgument,
            $"Unknown Grad-CAM method '{method}'. Use one of: {string.Join(", ", Methods)}.");

    /// <summary>α [1,K] from activations and gradients, both [1,K,h,w].</summary>
    protected virtual Tensor Weights(Tensor activations, Tensor gradients) =>
        throw new NotSupportedException($"{Method} does not weight channels.");

    /// <summary>
    /// The map before the ReLU, [1,h,w], and the channel weights when the method has them ([1,K] or null). By default
    /// Σ_k α_k A_k with α from <see cref="Weights"/>. <paramref name="context"/> is null when a layer sweep calls.
    /// </summary>
    protected virtual (Tensor Map, Tensor? Weights) Combine(Tensor activations, Tensor gradients, ExplainContext? context)
    {
        var weights = Weights(activations, gradients);
        return ((weights[.., .., TensorIndex.None, TensorIndex.None] * activations).sum(1), weights);
    }

    /// <summary>One forward to the layer and on to the target, one backward to the layer (<see cref="CamPass"/>), then <see cref="Compute"/>.</summary>
    public Attribution Explain(ExplainContext context)
    {
        using var scope = NewDisposeScope();
        var layer = context.RequireLayer();
        context.Cancellation.ThrowIfCancellationRequested();
        Tensor activations, gradients;
        if (UsesGradients)
        {
            var pass = CamPass.Run(context.Model, [layer], context.Target, context.InputTensor);
            (activations, gradients) = (pass.Activations[0], pass.Gradients[0]);
        }
        else
        {
            using var _ = no_grad();
            activations = context.Model.ForwardTo(context.InputTensor(), layer.Name);
            gradients = zeros_like(activations);
        }
        var (weights, lowRes, heatmap) = Compute(activations.detach(), gradients, context.Height, context.Width, context);
        // The activations' own size: the layer's listed shape is for the model's input size, and the input may be another.
        return new Attribution(heatmap, LowRes: lowRes, LowResShape: [(int)activations.shape[2], (int)activations.shape[3]],
            ChannelWeights: weights.Length > 0 ? weights : null);
    }

    /// <summary>
    /// The map for activations and gradients [1,K,h,w], as managed arrays: the weights [K] (empty when the method has
    /// none), the low-resolution map [h,w] after the ReLU, and the normalised map bilinearly upsampled to
    /// <paramref name="height"/>×<paramref name="width"/>.
    /// </summary>
    public (float[] Weights, float[] LowRes, float[] Heatmap) Compute(Tensor activations, Tensor gradients, int height, int width,
        ExplainContext? context = null)
    {
        if (NeedsModel && context is null)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"{Info.DisplayName} runs the model for every channel; it cannot be part of a layer sweep.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (raw, weights) = Combine(activations, gradients, context);
        var map = raw.clamp_min(0); // [1,h,w]
        // pytorch-grad-cam's scale_cam_image: x − min, then ÷ (max + 1e-7), so an all-zero map stays zero.
        var shifted = map - map.min();
        var normalised = shifted / (shifted.max() + 1e-7f);
        // Bilinear with align_corners = false: the half-pixel convention of cv2.resize(INTER_LINEAR), which
        // pytorch-grad-cam uses, for upsampling (no antialiasing either way).
        var upsampled = nn.functional.interpolate(normalised.unsqueeze(1), [height, width],
            mode: InterpolationMode.Bilinear, align_corners: false);
        // Half-pixel centres never land on a low-resolution value, so the upsampled peak falls short of 1: like
        // pytorch-grad-cam (aggregate_multi_layers scales the resized map again), normalise once more.
        upsampled -= upsampled.min();
        upsampled /= upsampled.max() + 1e-7f;
        return (weights is null ? [] : weights[0].contiguous().data<float>().ToArray(),
                map[0].contiguous().data<float>().ToArray(),
                upsampled[0, 0].contiguous().data<float>().ToArray());
    }
    /// <summary>
    /// The layer a CAM is taken at: a layer by name or display name, or a block (its last spatial layer).
    /// Refuses layers whose output is not a [C,H,W] map with more than one position (a dense layer, or the output
    /// of a global pool, where a map would be one value), naming the ones that are.
    /// </summary>
    public static LayerInfo SpatialLayer(CnnModel model, string name)
    {
        static bool HasMap(LayerInfo l) => l.IsSpatial && l.OutputShape[1] * l.OutputShape[2] > 1;
        var spatial = model.Layers.Where(HasMap).ToList();
        var layer = model.Layers.FirstOrDefault(l => l.Name == name || l.DisplayName == name)
                    ?? spatial.LastOrDefault(l => l.Group == name)
                    ?? model.GetLayer(name); // throws UnknownLayer with the list
        if (!HasMap(layer))
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"Layer '{layer.Name}' ({layer.DisplayName}, {layer.Kind}) outputs [{string.Join(", ", layer.OutputShape)}], " +
                (layer.IsSpatial ? "a single position (after a global pool), " : "not a [channels, height, width] map, ") +
                $"so it has no spatial map to show. Layers with a spatial output: {string.Join(", ", spatial.Select(l => $"{l.Name} ({l.DisplayName})"))}.",
                new { layers = spatial.Select(l => l.Name).ToArray() });
        return layer;
    }
}
