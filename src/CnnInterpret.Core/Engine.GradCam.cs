using CnnInterpret.Core.Caching;
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
    /// spatial <paramref name="layer"/>, in one forward and one backward that stops at the layer. When the activations
    /// cache holds this image, the forward starts at the layer from its cached output (no decode, and nothing before
    /// the layer is run again); otherwise the image is decoded and run to the layer without gradients, and from there
    /// on with them. A new image does not fill the activations cache: copying every layer's output (and encoding the
    /// picture) cost more than the CAM itself on small models (1.9× decode + forward + backward on fashion-vgg); the
    /// views that need every layer fill it themselves.
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
        var order = model.Layers.Select(l => l.Name).ToList();
        if (target is Target.Channel early && order.IndexOf(model.GetLayer(early.Layer).Name) < order.IndexOf(info.Name))
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"The target channel's layer '{early.Layer}' comes before '{info.Name}', so its score does not depend on that layer. Pick a target at '{info.Name}' or a later layer.");
        cancellation.ThrowIfCancellationRequested();

        using var scope = NewDisposeScope();
        var bytes = ImageLoader.ReadFile(imagePath, ImageLimits);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var cached = Cache.TryGet(ActivationCache.Key(model.Id, model.WeightsHash, hash));
        ModelInput? input = null;
        try
        {
            Tensor layerOutput;
            if (cached is not null)
            {
                var a = cached.Layers[info.Name];
                layerOutput = tensor(a.Data, [1, .. a.Shape.Select(d => (long)d)]);
            }
            else
            {
                using var decoded = ImageLoader.Decode(bytes, imagePath, ImageLimits, model.Input.Background);
                input = ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
                cancellation.ThrowIfCancellationRequested();
                Interlocked.Increment(ref _forwardPasses);
                using (no_grad()) layerOutput = model.ForwardTo(tensor(input.Data, input.BatchShape), info.Name);
            }
            // The layer's output becomes a leaf and only the layers after it run with gradients — unless a skip
            // connection goes around the layer: then the network runs from the input with the layer's output replaced.
            layerOutput = layerOutput.detach().requires_grad_(true);
            // A channel target needs its layer; so does no target on a model without classes, whose top target is a
            // channel of its last layer (Target.Top).
            var captures = target switch
            {
                Target.Channel ch => new HashSet<string> { model.GetLayer(ch.Layer).Name },
                null when model.Classes.Count == 0 && model.Layers.Count > 0 => new HashSet<string> { model.Layers[^1].Name },
                _ => new HashSet<string>(),
            };
            if (model.TryForwardFrom(info.Name, layerOutput, captures) is not { } rest)
            {
                if (input is null)
                {
                    using var decoded = ImageLoader.Decode(bytes, imagePath, ImageLimits, model.Input.Background);
                    input = ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
                }
                rest = model.ForwardFrom(info.Name, layerOutput, captures, tensor(input.Data, input.BatchShape));
            }
            var (logits, captured) = rest;
            var resolved = Target.Resolve(target, model, cached?.Logits ?? logits.detach()[0].contiguous().data<float>().ToArray());
            cancellation.ThrowIfCancellationRequested();
            var score = resolved.Score(logits, captured);
            var gradients = autograd.grad([score.sum()], [layerOutput])[0];
            var (weights, lowRes, heatmap) = cam.Compute(layerOutput.detach(), gradients, model.Input.Height, model.Input.Width);

            var (overlayPng, heatmapPng) = !render ? ([], [])
                : input is not null ? Render(input.Display, heatmap, model.Input.Height, model.Input.Width, overlay)
                : Render(cached!.DisplayPng, heatmap, model.Input.Height, model.Input.Width, overlay);
            return new GradCamResult(cam.Method, info, resolved, resolved.Describe(model), score.item<float>(),
                heatmap, [model.Input.Height, model.Input.Width], lowRes, [info.OutputShape[1], info.OutputShape[2]], weights,
                overlayPng, heatmapPng);
        }
        finally { input?.Dispose(); }
    }

    private static (byte[] Overlay, byte[] Heatmap) Render(byte[] displayPng, float[] heatmap, int height, int width, OverlayOptions? options)
    {
        using var picture = Image.Load<Rgb24>(displayPng);
        return Render(picture, heatmap, height, width, options);
    }

    private static (byte[] Overlay, byte[] Heatmap) Render(Image<Rgb24> picture, float[] heatmap, int height, int width, OverlayOptions? options)
    {
        using var blended = Overlay.Blend(picture, heatmap, height, width, options);
        using var plain = Overlay.Heatmap(heatmap, height, width, options);
        return (ChannelGrid.ToPng(blended), ChannelGrid.ToPng(plain));
    }
}
