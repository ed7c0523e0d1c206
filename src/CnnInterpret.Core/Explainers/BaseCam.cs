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
/// The steps every gradient-weighted class activation map shares, as in pytorch-grad-cam's <c>base_cam.py</c>:
/// given a layer's activations A [1,K,h,w] and the gradients of the target score with respect to them,
/// weight each channel, map = ReLU(Σ_k α_k A_k), min-max normalise, upsample to the input. A subclass
/// says only how the weights α are computed.
/// </summary>
public abstract class BaseCam
{
    public const string GradCamMethod = "grad-cam", GradCamPlusPlusMethod = "grad-cam++";

    public static IReadOnlyList<string> Methods => [GradCamMethod, GradCamPlusPlusMethod];

    public abstract string Method { get; }

    public static BaseCam Create(string? method) => (method ?? GradCamMethod).ToLowerInvariant() switch
    {
        GradCamMethod or "gradcam" => new GradCam(),
        GradCamPlusPlusMethod or "gradcam++" or "grad-cam-plus-plus" => new GradCamPlusPlus(),
        _ => throw new CnnInterpretException(ErrorKind.InvalidArgument,
            $"Unknown Grad-CAM method '{method}'. Use one of: {string.Join(", ", Methods)}."),
    };

    /// <summary>α [1,K] from activations and gradients, both [1,K,h,w].</summary>
    protected abstract Tensor Weights(Tensor activations, Tensor gradients);

    /// <summary>
    /// The map for activations and gradients [1,K,h,w], as managed arrays: the weights [K], the low-resolution
    /// map [h,w] after the ReLU, and the normalised map bilinearly upsampled to <paramref name="height"/>×<paramref name="width"/>.
    /// </summary>
    public (float[] Weights, float[] LowRes, float[] Heatmap) Compute(Tensor activations, Tensor gradients, int height, int width)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var weights = Weights(activations, gradients);                                  // [1,K]
        var map = (weights[.., .., TensorIndex.None, TensorIndex.None] * activations).sum(1).clamp_min(0); // [1,h,w]
        // pytorch-grad-cam's scale_cam_image: x − min, then ÷ (max + 1e-7), so an all-zero map stays zero.
        var shifted = map - map.min();
        var normalised = shifted / (shifted.max() + 1e-7f);
        // Bilinear with align_corners = false: the half-pixel convention of cv2.resize(INTER_LINEAR), which
        // pytorch-grad-cam uses, for upsampling (no antialiasing either way).
        var upsampled = nn.functional.interpolate(normalised.unsqueeze(1), [height, width],
            mode: InterpolationMode.Bilinear, align_corners: false);
        return (weights[0].contiguous().data<float>().ToArray(),
                map[0].contiguous().data<float>().ToArray(),
                upsampled[0, 0].contiguous().data<float>().ToArray());
    }

    /// <summary>
    /// The layer a CAM is taken at: a layer by name or display name, or a block (its last spatial layer).
    /// Refuses layers whose output is not a [C,H,W] map, naming the ones that are.
    /// </summary>
    public static LayerInfo SpatialLayer(CnnModel model, string name)
    {
        var spatial = model.Layers.Where(l => l.IsSpatial).ToList();
        var layer = model.Layers.FirstOrDefault(l => l.Name == name || l.DisplayName == name)
                    ?? spatial.LastOrDefault(l => l.Group == name)
                    ?? model.GetLayer(name); // throws UnknownLayer with the list
        if (!layer.IsSpatial)
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"Layer '{layer.Name}' ({layer.DisplayName}, {layer.Kind}) outputs [{string.Join(", ", layer.OutputShape)}], not a [channels, height, width] map, " +
                $"so it has no spatial map to show. Layers with a spatial output: {string.Join(", ", spatial.Select(l => $"{l.Name} ({l.DisplayName})"))}.",
                new { layers = spatial.Select(l => l.Name).ToArray() });
        return layer;
    }
}
