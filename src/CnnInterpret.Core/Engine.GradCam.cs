using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace CnnInterpret.Core;

public sealed partial class Engine
{
    /// <summary>
    /// Grad-CAM or Grad-CAM++ (<paramref name="method"/>) of <paramref name="target"/> (none: the top class) at a
    /// spatial <paramref name="layer"/>, in one forward and one backward. When the activations cache holds this
    /// image, the forward starts at the layer from its cached output (no decode, and nothing before the layer
    /// is run again); otherwise one full forward with gradients fills the cache and its graph serves the backward.
    /// </summary>
    public GradCamResult GradCam(string? modelId, string imagePath, string layer, Target? target = null,
        string? method = null, OverlayOptions? overlay = null, CancellationToken cancellation = default)
        => GradCam(GetModel(modelId), imagePath, layer, target, method, overlay, cancellation: cancellation);

    /// <inheritdoc cref="GradCam(string?, string, string, Target?, string?, OverlayOptions?, CancellationToken)"/>
    /// <param name="render">False leaves the PNGs empty (the numbers alone, e.g. for timing the method itself).</param>
    public GradCamResult GradCam(CnnModel model, string imagePath, string layer, Target? target = null,
        string? method = null, OverlayOptions? overlay = null, bool render = true, CancellationToken cancellation = default)
    {
        var cam = BaseCam.Create(method);
        overlay = (overlay ?? new OverlayOptions()).Validate();
        var info = BaseCam.SpatialLayer(model, layer);
        cancellation.ThrowIfCancellationRequested();

        using var scope = NewDisposeScope();
        var bytes = ImageLoader.ReadFile(imagePath, ImageLimits);
        (Tensor Logits, Dictionary<string, Tensor> Captured)? graph = null;
        var activations = Activations(model, bytes, imagePath, (forwardLogits, forwardCaptures) => graph = (forwardLogits, forwardCaptures), cancellation);

        var resolved = Target.Resolve(target, model, activations.Logits);
        var order = model.Layers.Select(l => l.Name).ToList();
        if (resolved is Target.Channel ch && order.IndexOf(ch.Layer) < order.IndexOf(info.Name))
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"The target channel's layer '{ch.Layer}' comes before '{info.Name}', so its score does not depend on that layer. Pick a target at '{info.Name}' or a later layer.");
        cancellation.ThrowIfCancellationRequested();

        Tensor layerOutput, logits;
        Dictionary<string, Tensor> captured;
        if (graph is { } g)
        {
            (logits, captured) = g;
            layerOutput = captured[info.Name];
        }
        else
        {
            // Cache hit: the layer's cached output becomes a leaf, and only the layers after it run — unless a skip
            // connection goes around the layer: then the network runs from the input with the layer's output replaced.
            var cached = activations.Layers[info.Name];
            layerOutput = tensor(cached.Data, [1, .. cached.Shape.Select(d => (long)d)]).requires_grad_(true);
            if (model.TryForwardFrom(info.Name, layerOutput, resolved.Captures) is { } rest)
                (logits, captured) = rest;
            else
            {
                using var decoded = ImageLoader.Decode(bytes, imagePath, ImageLimits, model.Input.Background);
                using var input = ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
                (logits, captured) = model.ForwardFrom(info.Name, layerOutput, resolved.Captures, tensor(input.Data, input.BatchShape));
            }
        }
        var score = resolved.Score(logits, captured);
        var gradients = autograd.grad([score.sum()], [layerOutput])[0];
        var (weights, lowRes, heatmap) = cam.Compute(layerOutput.detach(), gradients, model.Input.Height, model.Input.Width);

        var (overlayPng, heatmapPng) = render ? Render(activations.DisplayPng, heatmap, model.Input.Height, model.Input.Width, overlay) : ([], []);
        return new GradCamResult(cam.Method, info, resolved, resolved.Describe(model), score.item<float>(),
            heatmap, [model.Input.Height, model.Input.Width], lowRes, [info.OutputShape[1], info.OutputShape[2]], weights,
            overlayPng, heatmapPng);
    }

    private static (byte[] Overlay, byte[] Heatmap) Render(byte[] displayPng, float[] heatmap, int height, int width, OverlayOptions? options)
    {
        using var picture = Image.Load<Rgb24>(displayPng);
        using var blended = Overlay.Blend(picture, heatmap, height, width, options);
        using var plain = Overlay.Heatmap(heatmap, height, width, options);
        return (ChannelGrid.ToPng(blended), ChannelGrid.ToPng(plain));
    }
}
